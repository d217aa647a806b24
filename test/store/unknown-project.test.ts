/** A project key the local store does not have: a typo gets the close match (as on REST), a new key the way to create it. */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LocalTarget } from '../../src/targets/local/target.js';
import { useTempDirs } from '../support/tmp.js';

const tempDir = useTempDirs();

describe('an unknown project on the local store', () => {
  it('a key close to one the store has suggests that one, not creating a new project', async () => {
    const target = await LocalTarget.open(join(await tempDir(), 'jsm-store.json'));
    await target.createProject('ITH', 'IT Help');
    await target.createProject('HR', 'People');
    await expect(target.getProject('ITJ')).rejects.toMatchObject({ code: 'unknown-project', hint: 'use one of them: --project ITH' });
    await expect(target.getProject('FINANCE')).rejects.toMatchObject({ code: 'unknown-project', hint: 'create it with: jsm-provision project create FINANCE --name "<project name>"' });
    await target.close();
  });
});
