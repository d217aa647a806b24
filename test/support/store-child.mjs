// A child process that writes a local store, for the crash and concurrency tests.
//   node store-child.mjs rewrite <store> [n]      : commits forever, each commit n (default 2,000) more customers (a line after each)
//   node store-child.mjs add <store> <prefix> <n> : provisions n customers, committing after each
//   node store-child.mjs compact <store>          : marks every invitation sent (a commit that compacts)
import { LocalStore } from '../../dist/store/store.js';
import { LocalTarget } from '../../dist/targets/local/target.js';
import { withTestHooks } from '../../dist/util/test-hooks.js';
import { writeSync } from 'node:fs';

const [mode, path, prefix, count] = process.argv.slice(2);
// JSM_PROVISION_TEST_HOOKS as bin/ gives them to a run: lines on fd 2, a stop is SIGSTOP.
const spec = process.env.JSM_PROVISION_TEST_HOOKS;
const hooks = spec ? { spec, write: (line) => writeSync(2, line), stop: () => process.kill(process.pid, 'SIGSTOP') } : undefined;
await withTestHooks(hooks, run);

async function run() {

if (mode === 'rewrite') {
  const store = await LocalStore.open(path);
  // Customers per commit (the third argument): by default large enough that a write takes a while,
  // so a kill at a guessed moment lands inside one; a test that stops the writer at a hook needs fewer.
  const perCommit = prefix === undefined ? 2000 : Number(prefix);
  for (let i = 0; ; i++) {
    store.mutate((data) => {
      for (let j = 0; j < perCommit; j++) {
        const key = `c${i}-${j}@example.com`;
        data.customers.set(key, { email: key, fullName: `Customer ${i} ${j} ${'x'.repeat(40)}`, mustChangePassword: false, createdAt: new Date().toISOString(), projects: ['ITH'] });
      }
    });
    await store.commit();
    process.stdout.write(`commit ${i}\n`);
  }
} else if (mode === 'add') {
  const target = await LocalTarget.open(path);
  const project = await target.getProject('ITH');
  for (let i = 0; i < Number(count); i++) {
    const email = `${prefix}-${i}@example.com`;
    await target.provision(project, [{ email, key: email, fullName: `${prefix} ${i}`, exists: null }]);
    await target.flush();
  }
  await target.close();
} else if (mode === 'compact') {
  // Marks every invitation of the store sent, in one commit: the log then holds more replaced
  // records than the store's records, and the commit compacts it.
  const store = await LocalStore.open(path, {}, { compactMinReplaced: 1, compactShare: 0.1 });
  for (const [project, byKey] of Object.entries(store.data.invitations)) {
    for (const [key, record] of byKey) store.record({ p: project, k: key, v: { ...record, status: 'sent', updatedAt: 'compacted' } });
  }
  await store.commit();
  process.stdout.write('compacted\n');
} else {
  throw new Error(`unknown mode ${mode}`);
}
}
