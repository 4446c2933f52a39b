// Package nn holds nori's neural-network building blocks on top of autograd:
// layers (Linear, LayerNorm, RMSNorm, SwiGLUMLP, MultiHeadAttention,
// Embedding), seeded initialisers, optimizers (AdamW, Muon and their split
// MuonAdamW), learning-rate schedules, an exponential moving average of
// weights and global-norm gradient clipping.
//
// Parameters are autograd Vars owned by modules. A Module names them
// hierarchically ("blocks.3.attn.qkv.weight"); Params lists them in a fixed
// order, which optimizers, clipping and checkpoints follow, so a training run
// is a deterministic function of its seeds.
//
// A training step:
//
//	tp := autograd.NewTape()
//	loss := model.Loss(tp, batch)
//	tp.Backward(loss)
//	nn.ClipGradNorm(params, 1.0)
//	opt.Step(sched(opt.Steps()))
//	opt.ZeroGrad()
//	ema.Update()
//	tp.Release() // the step's intermediates go back to the buffer pool
package nn
