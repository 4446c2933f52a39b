package main

import (
	"bufio"
	"fmt"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
)

// setTrainMemoryLimit gives the Go runtime a soft memory limit for a training
// run. Without one the garbage collector lets the heap grow to twice the live
// bytes, and the live bytes of a training step on 1024-row tables plus the
// tensor buffer pool are several GiB: the first long run on a 24 GiB machine
// was killed by the kernel's OOM killer at 24 GiB resident. With the limit
// the collector runs more often instead. GOMEMLIMIT in the environment wins;
// gib <= 0 means 60% of the machine's physical memory.
func setTrainMemoryLimit(gib float64) (int64, error) {
	if os.Getenv("GOMEMLIMIT") != "" {
		return debug.SetMemoryLimit(-1), nil
	}
	var limit int64
	if gib > 0 {
		limit = int64(gib * (1 << 30))
	} else {
		total, err := physicalMemory()
		if err != nil {
			return 0, err
		}
		limit = total / 10 * 6
	}
	debug.SetMemoryLimit(limit)
	return limit, nil
}

// physicalMemory reads MemTotal from /proc/meminfo (Linux); elsewhere it
// returns an error and the caller keeps Go's default (no limit).
func physicalMemory() (int64, error) {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "MemTotal:"); ok {
			fields := strings.Fields(rest)
			if len(fields) == 2 && fields[1] == "kB" {
				kb, err := strconv.ParseInt(fields[0], 10, 64)
				if err == nil && kb > 0 {
					return kb << 10, nil
				}
			}
		}
	}
	return 0, fmt.Errorf("no MemTotal in /proc/meminfo")
}
