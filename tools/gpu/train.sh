#!/usr/bin/env bash
# Trains a config on the GPU machine inside one device call, as the default
# checkpoint was trained (docs/model.md). Run there from the repository root
# with out/carry carried (tools/gpu/pack.sh put the nori binary in it):
#
#   fresh run:  bash tools/gpu/train.sh CONFIG SECONDS_THIS_CALL SECONDS_IN_ALL
#               probes each curriculum stage for 25 steps, fits the config's
#               steps to SECONDS_IN_ALL with tools/gpu/fitcfg.py, trains for
#               SECONDS_THIS_CALL
#   resume:     bash tools/gpu/train.sh -resume RUNDIR SECONDS_THIS_CALL
#               continues the run carried in RUNDIR (the parts reassembled)
#
# The run stops with SIGINT at its time limit: nori train writes a checkpoint
# and exits. The run's files go to $OUT: model.safetensors, config.json,
# train_log.jsonl, loss.png and train_state.safetensors split into parts of
# 15 MB (a lease returns files of at most 16 MiB; reassemble them here with
# cat train_state.part* > train_state.safetensors), plus summary.txt; with
# PROFILE=1 also cpu.pprof, the Go CPU profile of the steps (go tool pprof).
# Each log line of a GPU run has the launches, copies and forced garbage
# collections per step (train_log.jsonl, "device").
set -uo pipefail
root=$PWD
out=${OUT:?run this through the device tool}
t0=$(date +%s)
el() { echo $(($(date +%s) - t0)); }
mkdir -p /tmp/gpubin && tar -C /tmp/gpubin -xJf "$root/out/carry/bin.tar.xz" nori
nori=/tmp/gpubin/nori
S=$out/summary.txt
prof=()
if [ -n "${PROFILE:-}" ]; then prof=(-cpuprofile "$out/cpu.pprof"); fi
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader >"$S" 2>&1
if [ "${1:-}" = -resume ]; then
	run=$2
	T=$3
	timeout -s INT "$T" "$nori" train -resume -device cuda -out "$run" -quiet "${prof[@]}" >/tmp/train.txt 2>&1
	echo "train exit $? at $(el)s" >>"$S"
else
	cfg=$1
	T=$2
	all=$3
	run=/tmp/run
	rates=""
	n=$(python3 -c "import json,sys; print(len(json.load(open(sys.argv[1]))['curriculum']))" "$cfg")
	for k in $(seq 0 $((n - 1))); do
		python3 "$root/tools/gpu/fitcfg.py" probe "$cfg" "$k" >/tmp/probe$k.json
		r=$(timeout 60 "$nori" train -config /tmp/probe$k.json -device cuda -steps 25 -out /tmp/probe$k -quiet 2>&1 | grep -o '[0-9.]* steps/s' | cut -d' ' -f1)
		echo "probe stage $k: ${r:-none} steps/s at $(el)s" >>"$S"
		rates="$rates ${r:-1}"
	done
	left=$((T - $(el)))
	python3 "$root/tools/gpu/fitcfg.py" fit "$cfg" $((all - $(el))) $rates >/tmp/fitted.json
	timeout -s INT "$left" "$nori" train -config /tmp/fitted.json -device cuda -out "$run" -quiet "${prof[@]}" >/tmp/train.txt 2>&1
	echo "train exit $? at $(el)s" >>"$S"
fi
tail -3 /tmp/train.txt >>"$S"
(cd "$run" && split -b 15000000 -d train_state.safetensors "$out/train_state.part" &&
	cp model.safetensors config.json train_log.jsonl loss.png "$out/" && sha256sum train_state.safetensors >>"$S")
cat "$S"
