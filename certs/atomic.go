package certs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
)

type pendingFile struct {
	name string
	mode os.FileMode
	data []byte
}

// writeAtomically writes every file to a synced temp file in dir first and
// renames them into place only when all are written, keeping the window in
// which the set is inconsistent down to consecutive renames.
func writeAtomically(dir string, files []pendingFile) (err error) {
	temps := make([]string, 0, len(files))
	defer func() {
		if err != nil {
			for _, t := range temps {
				_ = os.Remove(t) // best effort; the temp name never collides with ours
			}
		}
	}()
	for _, f := range files {
		tmp, err := writeTemp(dir, f)
		if tmp != "" {
			temps = append(temps, tmp)
		}
		if err != nil {
			return err
		}
	}
	for i, f := range files {
		if err := os.Rename(temps[i], filepath.Join(dir, f.name)); err != nil {
			return fmt.Errorf("install %s: %w", f.name, err)
		}
	}
	return syncDir(dir)
}

func writeTemp(dir string, f pendingFile) (string, error) {
	// CreateTemp opens with 0600, so the key is never briefly world-readable.
	tf, err := os.CreateTemp(dir, "."+f.name+".tmp-*")
	if err != nil {
		return "", fmt.Errorf("write %s: %w", f.name, err)
	}
	name := tf.Name()
	_, err = tf.Write(f.data)
	if err == nil {
		err = tf.Chmod(f.mode)
	}
	if err == nil {
		err = tf.Sync()
	}
	if cerr := tf.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return name, fmt.Errorf("write %s: %w", name, err)
	}
	return name, nil
}

// syncDir makes the renames durable; without it a power cut can undo them.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil // directories cannot be opened for sync there
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync directory: %w", err)
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	// Some filesystems (FUSE, network mounts) refuse fsync on a directory.
	if err != nil && !errors.Is(err, syscall.EINVAL) {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}
