import { Job } from 'jobs-runtime';

type Payload = { width: number; height: number };

// CPU-bound work: runs on a worker thread, so it never blocks the master or other jobs.
export default class ResizeImage extends Job<Payload> {
  queue = 'images';

  run({ width, height }: Payload) {
    const pixels = new Uint8Array(width * height);
    for (let i = 0; i < pixels.length; i++) pixels[i] = (i * 31) & 0xff;
    return { pixels: pixels.length }; // kept with the outcome: waitFor() and jobEvents() see it
  }
}
