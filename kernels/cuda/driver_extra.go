//go:build cuda

package cuda

// Driver API calls that gorgonia.org/cu v0.9.6 does not wrap: function
// attributes, page-locked host memory, and stream capture into CUDA graphs.
// cu's handle types are structs holding one C handle, so they convert to the
// C handle by reinterpreting their memory (checked by the size asserts below).

/*
#cgo LDFLAGS: -lcuda
#include <cuda.h>
*/
import "C"

import (
	"fmt"
	"unsafe"

	"gorgonia.org/cu"
)

var (
	_ [unsafe.Sizeof(cu.Function{}) - unsafe.Sizeof(C.CUfunction(nil))]byte
	_ [unsafe.Sizeof(cu.Stream{}) - unsafe.Sizeof(C.CUstream(nil))]byte
)

func cFunction(fn cu.Function) C.CUfunction { return *(*C.CUfunction)(unsafe.Pointer(&fn)) }
func cStream(s cu.Stream) C.CUstream        { return *(*C.CUstream)(unsafe.Pointer(&s)) }

func check(what string, r C.CUresult) error {
	if r == C.CUDA_SUCCESS {
		return nil
	}
	var name, msg *C.char
	C.cuGetErrorName(r, &name)
	C.cuGetErrorString(r, &msg)
	return fmt.Errorf("cuda: %s: %s (%s)", what, C.GoString(name), C.GoString(msg))
}

// setMaxDynamicShared lets fn use up to bytes of dynamic shared memory
// (above the default 48 KiB; sm_80 allows 163 KiB, sm_90 227 KiB).
func setMaxDynamicShared(fn cu.Function, bytes int) error {
	return check("cuFuncSetAttribute(MAX_DYNAMIC_SHARED_SIZE_BYTES)",
		C.cuFuncSetAttribute(cFunction(fn), C.CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, C.int(bytes)))
}

// memAllocHost returns page-locked host memory (DMA-able, so copies run at
// full PCIe/NVLink speed and can be asynchronous).
func memAllocHost(bytes int64) (unsafe.Pointer, error) {
	var p unsafe.Pointer
	if err := check("cuMemAllocHost", C.cuMemAllocHost(&p, C.size_t(bytes))); err != nil {
		return nil, err
	}
	return p, nil
}

func memFreeHost(p unsafe.Pointer) error { return check("cuMemFreeHost", C.cuMemFreeHost(p)) }

// Graph is an instantiated CUDA graph: a recorded sequence of launches that
// replays with one driver call.
type Graph struct {
	g    C.CUgraph
	exec C.CUgraphExec
}

func beginCapture(s cu.Stream) error {
	return check("cuStreamBeginCapture", C.cuStreamBeginCapture(cStream(s), C.CU_STREAM_CAPTURE_MODE_THREAD_LOCAL))
}

func endCapture(s cu.Stream) (*Graph, error) {
	g := &Graph{}
	if err := check("cuStreamEndCapture", C.cuStreamEndCapture(cStream(s), &g.g)); err != nil {
		return nil, err
	}
	if err := check("cuGraphInstantiate", C.cuGraphInstantiateWithFlags(&g.exec, g.g, 0)); err != nil {
		C.cuGraphDestroy(g.g)
		return nil, err
	}
	return g, nil
}

func (g *Graph) launch(s cu.Stream) error {
	return check("cuGraphLaunch", C.cuGraphLaunch(g.exec, cStream(s)))
}

func (g *Graph) destroy() error {
	err := check("cuGraphExecDestroy", C.cuGraphExecDestroy(g.exec))
	if e := check("cuGraphDestroy", C.cuGraphDestroy(g.g)); err == nil {
		err = e
	}
	return err
}

// Capture records every launch and device-to-device copy that f issues on the
// runtime's stream into a graph instead of running them. Replay it with
// RunGraph: the recorded pointers and scalars are fixed, so the buffers must
// stay allocated (the caching allocator keeps a step's buffers stable when
// the step allocates in the same order). Host copies must not be captured.
func (r *Runtime) Capture(f func() error) (*Graph, error) {
	if err := r.do(func() error { return beginCapture(r.stream) }); err != nil {
		return nil, err
	}
	ferr := f()
	var g *Graph
	err := r.do(func() error {
		var e error
		g, e = endCapture(r.stream)
		return e
	})
	if ferr != nil {
		if g != nil {
			g.destroy()
		}
		return nil, ferr
	}
	return g, err
}

// RunGraph queues one replay of g on the runtime's stream.
func (r *Runtime) RunGraph(g *Graph) error { return r.do(func() error { return g.launch(r.stream) }) }

// FreeGraph releases g.
func (r *Runtime) FreeGraph(g *Graph) error { return r.do(g.destroy) }
