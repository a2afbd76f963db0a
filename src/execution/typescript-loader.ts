// Lets plain Node import .ts job files and jobs.config.ts without a build step. tsx is loaded
// only when such a file is first imported, so compiled .js apps never pay for it.
let registered: Promise<void> | null = null;

export function registerTypeScript(): Promise<void> {
  registered ??= (async () => {
    const [esm, cjs] = await Promise.all([import('tsx/esm/api'), import('tsx/cjs/api')]);
    esm.register();
    cjs.register();
  })();
  return registered;
}

export const isTypeScriptFile = (path: string): boolean => /\.[mc]?ts$/.test(path);
