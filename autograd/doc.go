// Package autograd is nori's reverse-mode automatic differentiation.
//
// A Tape records the ops applied to Vars; Backward walks the record in
// reverse and accumulates gradients into every Var that requires them.
// Every op is a method of Tape, so the tape is explicit: a forward pass takes
// the tape it records on, independent passes can run concurrently on their
// own tapes, and there is no global state.
//
//	tp := autograd.NewTape()
//	loss := tp.Mean(tp.Square(tp.Sub(tp.MatMul(x, w), y)), false)
//	tp.Backward(loss) // w.Grad now holds dloss/dw (added to what it held)
//	tp.Release()      // intermediates go back to the buffer pool
//
// NoGrad returns a tape that records nothing and keeps no intermediate: each
// op just computes its value, and intermediates are freed as soon as nothing
// references them. Inference uses it.
//
// Memory: in recording mode the tape owns every tensor its ops allocate
// (outputs, saved statistics, gradients of intermediate Vars) and returns them
// to the device's buffer pool on Release, so a training loop reuses the same
// memory each step. Values obtained from a recording tape are valid until its
// Release; copy what must outlive it.
package autograd
