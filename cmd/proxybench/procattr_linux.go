package main

import (
	"os/exec"
	"syscall"
)

// setProcAttr makes the kernel kill the proxy if proxybench dies without
// cleaning up (kill -9, a crash).
func setProcAttr(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
