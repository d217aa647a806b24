/** The organizations scenario both targets are tested with (test/core and test/rest organizations tests). */
import { runImport, type RunOutcome } from '../../src/core/run.js';
import type { Target } from '../../src/core/target.js';
import type { CandidateRow, Reporter } from '../../src/core/types.js';

export const quiet: Reporter = { reading: () => undefined, progress: () => undefined, sending: () => undefined };

/**
 * Five rows: mixed-case names, several per row, one existing organization (Globex, not yet on the
 * project) and one existing customer (cara). The first spelling of "Acme Corp" is the one created.
 */
export const ORG_ROWS: readonly CandidateRow[] = [
  { line: 2, email: 'ann.archer@acme.example', fullName: 'Ann Archer', organizations: ['Acme Corp'] },
  { line: 3, email: 'bob.baker@acme.example', fullName: 'Bob Baker', organizations: ['ACME corp', ' Support Partners '] },
  { line: 4, email: 'Cara.Cole@globex.example', fullName: 'Cara Cole', organizations: ['GLOBEX'] },
  { line: 5, email: 'dan.dole@globex.example', fullName: 'Dan Dole', organizations: ['globex', 'support partners', 'Globex'] },
  { line: 6, email: 'erin.east@initech.example', fullName: 'Erin East' },
];

export async function* source(rows: readonly CandidateRow[] = ORG_ROWS): AsyncIterable<CandidateRow> {
  for (const row of rows) yield { ...row };
}

/** One run of `rows` through the whole pipeline, invitations off. */
export async function runOrgs(
  target: Target,
  options: { dryRun?: boolean; createOrganizations?: boolean; rows?: readonly CandidateRow[] } = {},
): Promise<RunOutcome> {
  const project = await target.getProject('ITH');
  const settings = {
    command: 'import-csv',
    project,
    kind: 'welcome' as const,
    invitations: 'none' as const,
    dryRun: options.dryRun ?? false,
    ...(options.createOrganizations === false ? { createOrganizations: false } : {}),
  };
  const outcome = await runImport(source(options.rows), settings, {
    target,
    mailer: async () => {
      throw new Error('no invitation is sent in these tests');
    },
    outbox: null,
    messageId: () => 'x@example',
    reporter: quiet,
    runId: `run-${Math.random()}`,
  });
  await target.flush();
  return outcome;
}
