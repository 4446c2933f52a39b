package main

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/nori-ml/nori/tensor"
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

// trainPoolLimit is the most host memory a training run keeps in the tensor
// buffer pool: a step of large tables releases gigabytes, and the next step
// asks for the same shapes again, so the pool saves it the zeroing and the
// collector's work. Inference keeps tensor.DefaultPoolLimit.
const trainPoolLimit = 4 << 30

// setTrainPoolLimit raises the buffer pool's limit for a training run to
// trainPoolLimit, at most a quarter of the soft memory limit (limit <= 0:
// none known; the pool limit is then trainPoolLimit).
func setTrainPoolLimit(limit int64) {
	pool := int64(trainPoolLimit)
	if limit > 0 && limit != math.MaxInt64 {
		pool = min(pool, limit/4)
	}
	tensor.SetPoolLimit(max(pool, tensor.DefaultPoolLimit))
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
