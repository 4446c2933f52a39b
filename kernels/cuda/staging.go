//go:build cuda

package cuda

import (
	"unsafe"

	"gorgonia.org/cu"
)

// stagingChunk is the size of one pinned staging buffer. Two of them let the
// CPU fill one while the DMA engine drains the other.
const stagingChunk = 8 << 20

// stagingBuf is one page-locked host buffer and the event that marks the end
// of the last copy that used it.
type stagingBuf struct {
	host    unsafe.Pointer
	ev      cu.Event
	pending bool
}

func (b *stagingBuf) wait() error {
	if !b.pending {
		return nil
	}
	b.pending = false
	return b.ev.Synchronize()
}

func (b *stagingBuf) record(s cu.Stream) error {
	b.pending = true
	return b.ev.Record(s)
}

// staging hands out the two staging buffers in turn, allocating them on first
// use (inside Runtime.do, so the context is current).
type staging struct {
	bufs [2]*stagingBuf
	turn int
}

func newStaging() *staging { return &staging{} }

func (s *staging) next(want int64) (*stagingBuf, int64, error) {
	i := s.turn
	s.turn ^= 1
	if s.bufs[i] == nil {
		p, err := memAllocHost(stagingChunk)
		if err != nil {
			return nil, 0, err
		}
		ev, err := cu.MakeEvent(cu.DisableTiming)
		if err != nil {
			memFreeHost(p)
			return nil, 0, err
		}
		s.bufs[i] = &stagingBuf{host: p, ev: ev}
	}
	return s.bufs[i], min(want, stagingChunk), nil
}

func (s *staging) release() error {
	var first error
	for i, b := range s.bufs {
		if b == nil {
			continue
		}
		if err := b.wait(); err != nil && first == nil {
			first = err
		}
		if err := cu.DestroyEvent(&b.ev); err != nil && first == nil {
			first = err
		}
		if err := memFreeHost(b.host); err != nil && first == nil {
			first = err
		}
		s.bufs[i] = nil
	}
	return first
}
