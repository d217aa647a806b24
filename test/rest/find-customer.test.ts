/** `customers show` on REST: the account found by email (as rows resolve it), its display name and username. */
import { describe, expect, it } from 'vitest';
import { findShown, renderShownText } from '../../src/cli/commands/customers-show.js';
import { useRest } from './helpers.js';

const rest = useRest();

describe('a customer found by email on REST', () => {
  it('is the directory account with its display name and username; the project organizations it is in are named', async () => {
    const jsm = await rest.double({ existingUsers: [{ name: 'msilva', emailAddress: 'Maria.Silva@Corp.Example', displayName: 'Maria Silva' }] });
    const target = await rest.target(jsm);
    const project = await target.getProject('ITH');
    const legal = await target.createOrganization('Legal');
    await target.addOrganizationToProject(project, legal);
    expect(await target.joinOrganization(legal, [{ key: 'maria.silva@corp.example', email: 'maria.silva@corp.example', account: 'msilva' }])).toEqual(new Map());
    const shown = await findShown(target, project, 'maria.silva@corp.example');
    expect(shown.customer).toEqual({ email: 'Maria.Silva@Corp.Example', fullName: 'Maria Silva', inProject: null, account: 'msilva', active: true });
    expect(shown.organizations).toEqual(['Legal']);
    expect(renderShownText('ITH', shown)).toMatch(/^customer of +\(JSM does not say whether of ITH\)$/m);
    expect(await target.findCustomer(project, 'nobody@example.com')).toBeUndefined();
  });

  it('an email of two active accounts is refused naming them (as a row would be)', async () => {
    const jsm = await rest.double({ existingUsers: [{ name: 'jdoe', emailAddress: 'jd@corp.example' }, { name: 'john.doe', emailAddress: 'JD@corp.example' }] });
    const target = await rest.target(jsm);
    await expect(target.findCustomer(await target.getProject('ITH'), 'jd@corp.example')).rejects.toMatchObject({ code: 'ambiguous-account', exitCode: 3, message: expect.stringContaining('jdoe, john.doe') });
  });
});
