// Bundles the console's browser code into dist/console/ (run by `npm run build`). The catalog's answer checks
// are bundled in as they are, so the browser checks a form exactly as the server will; their node-only imports
// (the version lookup reads package.json) are stubbed, since no check calls them.
import { build } from 'esbuild';
import { cpSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const out = path.join(here, '..', 'dist', 'console');
mkdirSync(out, { recursive: true });

const nodeStub = {
  name: 'node-stub',
  setup(b) {
    b.onResolve({ filter: /^node:/ }, (args) => ({ path: args.path, namespace: 'node-stub' }));
    b.onLoad({ filter: /.*/, namespace: 'node-stub' }, () => ({
      contents: 'export const existsSync = () => false; export const readFileSync = () => "{}"; export const fileURLToPath = (u) => String(u);'
        + 'const path = { dirname: (p) => p, join: (...p) => p.join("/"), resolve: (...p) => p.join("/") }; export default path;',
      loader: 'js',
    }));
  },
};

await build({
  entryPoints: [path.join(here, 'client', 'app.ts')],
  bundle: true, format: 'esm', target: 'es2020', platform: 'browser', minify: true, sourcemap: true,
  outfile: path.join(out, 'app.js'), plugins: [nodeStub], logLevel: 'warning',
  define: { 'process.env.NODE_DEBUG': 'undefined', 'process.env': '{}' },
});
for (const f of ['app.css', 'favicon.svg']) cpSync(path.join(here, 'client', f), path.join(out, f));
