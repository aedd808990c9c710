package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// userHZ is the unit of the CPU times in /proc (USER_HZ, 100 on every
// Linux architecture Go supports).
const userHZ = 100

// procCPU is the user+system CPU time a process has used, from
// /proc/PID/stat ("self" for this one).
func procCPU(pid string) (time.Duration, error) {
	data, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return 0, err
	}
	return parseProcStat(data)
}

// parseProcStat reads utime and stime (fields 14 and 15) from a
// /proc/PID/stat line. The command name (field 2) may hold spaces and
// parentheses, so fields are counted from the last ')'.
func parseProcStat(data []byte) (time.Duration, error) {
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return 0, errors.New("malformed /proc stat")
	}
	f := strings.Fields(string(data[i+1:]))
	// f[0] is field 3 (state), so utime (14) is f[11], stime (15) f[12].
	if len(f) < 13 {
		return 0, errors.New("short /proc stat")
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	s, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("malformed /proc stat times %q %q", f[11], f[12])
	}
	return time.Duration(u+s) * time.Second / userHZ, nil
}

// machineBusy is the CPU time all CPUs together have spent not idle, from
// the first line of /proc/stat.
func machineBusy() (time.Duration, error) {
	f, err := os.Open("/proc/stat")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	if !sc.Scan() {
		return 0, errors.New("empty /proc/stat")
	}
	return parseStatBusy(sc.Text())
}

// parseStatBusy sums the "cpu" line's columns except idle and iowait.
// guest and guest_nice are already inside user and nice.
func parseStatBusy(line string) (time.Duration, error) {
	f := strings.Fields(line)
	if len(f) < 8 || f[0] != "cpu" {
		return 0, fmt.Errorf("unexpected /proc/stat line %q", line)
	}
	var busy int64
	for i, v := range f[1:] {
		if i >= 8 { // user nice system idle iowait irq softirq steal
			break
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, err
		}
		if i != 3 && i != 4 {
			busy += n
		}
	}
	return time.Duration(busy) * time.Second / userHZ, nil
}

// cpuMeter measures, over one load, the CPU the proxy used and the CPU
// used by everything else on the machine but proxybench and the proxy:
// other engineers' builds and tests make numbers from a shared machine
// worth little, and this says when that happened.
type cpuMeter struct {
	pid                      string // "" for no proxy
	start                    time.Time
	proxy0, self0, machine0  time.Duration
	proxyCPU, self, otherCPU time.Duration
	wall                     time.Duration
	ok                       bool
}

func startCPUMeter(pid string) *cpuMeter {
	m := &cpuMeter{pid: pid, start: time.Now(), ok: true}
	m.proxy0, m.self0, m.machine0 = m.read()
	return m
}

func (m *cpuMeter) read() (proxy, self, machine time.Duration) {
	var err error
	if m.pid != "" {
		if proxy, err = procCPU(m.pid); err != nil {
			m.ok = false
		}
	}
	if self, err = procCPU("self"); err != nil {
		m.ok = false
	}
	if machine, err = machineBusy(); err != nil {
		m.ok = false
	}
	return proxy, self, machine
}

func (m *cpuMeter) stop() {
	p, s, mach := m.read()
	m.wall = time.Since(m.start)
	m.proxyCPU = p - m.proxy0
	m.self = s - m.self0
	m.otherCPU = max(0, (mach-m.machine0)-m.proxyCPU-m.self)
}

// otherPercent is the rest of the machine's CPU use as a share of all its
// CPUs over the load (100% = every CPU busy with something else).
func (m *cpuMeter) otherPercent(ncpu int) float64 {
	if !m.ok || m.wall <= 0 {
		return -1
	}
	return 100 * m.otherCPU.Seconds() / (m.wall.Seconds() * float64(ncpu))
}
