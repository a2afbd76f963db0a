// W3: the peers' calibrated ~20 ms of synchronous CPU (../shared/peers/cpu-work.mjs), same loop.
import { Job } from 'jobs-runtime';
const ITERS = Number(process.env.BURN_ITERS || 0) || 14_500_000;
export default class Burn extends Job {
  run() {
    let x = 0x9e3779b9 | 0;
    for (let i = 0; i < ITERS; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
    }
    return x;
  }
}
