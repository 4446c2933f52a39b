// Package configs holds nori's named training configurations, one JSON file
// each (the format of nori.ParseTrainConfig), embedded so that
// `nori train -config NAME` works from any directory.
//
//	tiny   the Tiny model (53k parameters) on small tables: smoke tests of
//	       the trainer (2000 steps in about 2 minutes)
//	small  the first checkpoint, sized for a 2-core CPU and a few hours:
//	       4 layers, E=64, 2 heads, SwiGLU 128, head 192, 999 quantiles
//	       (564k trainable parameters); Muon + AdamW at lr 0.01 (300 warmup
//	       steps, cosine from step 8000 to 5e-5 at 12000); batches of 8
//	       tables of 32-256 rows x 2-16 features until step 3000, 64-512 x
//	       2-32 until 8000, then 4 tables of 128-1024 x 2-48.
//	medium the default checkpoint, sized for a GPU lease of about 17
//	       minutes: 6 layers, E=128, 2 heads, SwiGLU 256, head 384, 999
//	       quantiles (2,376,744 trainable parameters); the schedule of small
//	       with batches of 32 tables (stage 1), 24 (stage 2) and 8 (stage 3
//	       of 128-1024 rows x 2-48 features). The step counts are those of the
//	       run on an H100 (2026-11-23: 3731 steps, 76,104 tables, 1,048 s of
//	       training, 2.3-5.4 steps/s), fitted to its lease by
//	       tools/gpu/fitcfg.py from speed probes of each stage; the same tool
//	       rescales them for another lease or GPU.
//	medium-cpu continued pretraining of medium on the 2-core CPU, in a
//	       session's background: `nori train -config medium-cpu -init
//	       CHECKPOINT` (runs/medium-cpu: the run of 2026-11-23, started from
//	       a 405-step first attempt at lr 0.002 on top of medium). Only the
//	       largest tables (medium's stage 3: 128-1024 rows x 2-48
//	       features), which medium saw least of (10k of its 76k tables) and
//	       which resemble the real tables of 1,000-4,000 rows most, 4 per
//	       step (8 of 1024 rows x 48 features needed more than the
//	       machine's 24 GiB; 4 peak at ~21 GB); its own data stream (seed
//	       2); 1000 steps: 20 warmup steps to lr 0.001 (a tenth of medium's
//	       peak, so as not to undo what it learnt), flat until step 100,
//	       then a cosine to 2e-5. 0.35 steps/s (1.4 tables/s) on the dev
//	       machine: 47 minutes.
//
// Measured for small on the shared 2-core Zen 4 (load average ~5 from other
// jobs): about 3 steps/s in the first stage, 0.9 in the second, 0.64 in the
// third, so 12000 steps take about 3.6 hours (80,000 tables). The learning
// rate was chosen from 150-step probes at 0.001, 0.003, 0.01 and 0.03 (the
// mean loss of the last 50 steps: 0.41, 0.36, 0.32, 0.32; of the two best,
// the lower is kept for a run 80 times longer).
package configs

import (
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strings"
)

//go:embed *.json
var files embed.FS

// Names returns the names of the embedded configs, sorted.
func Names() []string {
	ents, _ := fs.ReadDir(files, ".")
	var out []string
	for _, e := range ents {
		if n, ok := strings.CutSuffix(e.Name(), ".json"); ok {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// Get returns the JSON of the named config.
func Get(name string) ([]byte, error) {
	b, err := files.ReadFile(name + ".json")
	if err != nil {
		return nil, fmt.Errorf("no training config named %q (named configs: %s)", name, strings.Join(Names(), ", "))
	}
	return b, nil
}
