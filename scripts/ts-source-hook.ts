/**
 * Lets Node run the TypeScript sources directly (type stripping, Node >= 22.18 / 23.6): the
 * sources import each other as `./x.js`, as compiled output does; this resolve hook maps such a
 * specifier to `./x.ts` when no `.js` file exists. Import it first, then import the sources
 * dynamically. Used by the benchmarks and by test fixtures that run as child processes.
 */
import { registerHooks } from 'node:module';

registerHooks({
  resolve(specifier, context, nextResolve) {
    try {
      return nextResolve(specifier, context);
    } catch (err) {
      if (specifier.startsWith('.') && specifier.endsWith('.js')) return nextResolve(`${specifier.slice(0, -3)}.ts`, context);
      throw err;
    }
  },
});
