// Package configs holds nori's named training configurations, one JSON file
// each (the format of nori.ParseTrainConfig), embedded so that
// `nori train -config NAME` works from any directory.
//
//	tiny   the Tiny model on small tables: smoke tests of the trainer (minutes)
//	small  the checkpoint to train on a 2-core CPU in a few hours
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
