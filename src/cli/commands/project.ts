import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { Command } from 'commander';
import { TargetError, UsageError } from '../../core/errors.js';
import type { Target } from '../../core/target.js';
import { action, withTarget } from '../program/action.js';
import { openTarget, resolveProject } from '../runs/context.js';
import { addCommonOptions, addProjectOption, DEFAULT_STORE, type CommonOptions, type ProjectOption } from '../settings/options.js';
import { parseSettings, projectCreateSchema, projectScopedSchema, setNotificationsSchema } from '../settings/settings.js';
import type { Output } from '../io/output.js';
import type { CommandResult } from '../io/result.js';
import type { InvitationView, ProjectInfo } from '../../core/types.js';
import { invitationView } from './invitations.js';

type ProjectOptions = CommonOptions & ProjectOption;

export function projectCommand(): Command {
  const project = new Command('project').description('create a project (local store), show one, or change its notification setting');

  addCommonOptions(
    project
      .command('create')
      .description('create a service project in the local store')
      .argument('<KEY>', 'project key: 2-10 capitals, digits or _, starting with a capital (e.g. ITH)')
      .requiredOption('--name <name>', 'the project name customers see ("Welcome to <name>")')
      .addHelpText('after', '\nExample:\n  $ jsm-provision project create ITH --name "IT Help"'),
  ).action(action('project create', createProject));

  addCommonOptions(project.command('list').description('list the projects of the store (or the service desks of a JSM instance)'))
    .addHelpText('after', '\nExamples:\n  $ jsm-provision project list\n  $ jsm-provision project list --target https://jira.example.com --json')
    .action(action('project list', listProjects));

  addCommonOptions(
    addProjectOption(project.command('show').description('show a project, its notification setting and its counts')),
  )
    .addHelpText('after', '\nExample:\n  $ jsm-provision project show --project ITH')
    .action(action('project show', showProject));

  addCommonOptions(
    addProjectOption(
      project
        .command('set-notifications')
        .description('turn the project setting "Do not send account verification emails" on or off')
        // --verification first: so neither flag sets a default and "neither given" can be told apart.
        .option('--verification', 'turn it off: new customers get invitations again')
        .option('--no-verification', 'turn it on: no invitation goes out for this project, whatever a run asks'),
    ),
  )
    .addHelpText(
      'after',
      '\nExamples:\n  $ jsm-provision project set-notifications --project ITH --no-verification\n  $ jsm-provision project set-notifications --project ITH --verification',
    )
    .action(action('project set-notifications', setNotifications));
  return project;
}

async function createProject(out: Output, raw: CommonOptions, rawKey: string): Promise<CommandResult> {
  // Parse: the key and every option checked and typed once.
  const options = parseSettings(projectCreateSchema, { ...raw, key: rawKey }, { key: 'project key' });
  const { key, name } = options;
  // The store's folder is made here, and only here: every other command names a missing store as such.
  if (options.target.kind === 'local') await mkdir(dirname(resolve(options.target.path)), { recursive: true });
  return withTarget(
    () => openTarget(options, out, { create: true }),
    async (target) => {
      if (target.kind !== 'local') {
        throw new UsageError(
          'unsupported',
          target.deployment === 'cloud'
            ? `create service projects in Jira Cloud (Projects > Create project, a service management template) at ${target.location}; this command creates them in the local store only`
            : 'create projects in JSM (Projects > Create project); this command creates them in the local store only',
        );
      }
      // The same project again is no change (a setup script can run twice); another name is a mistake.
      const existing = (await target.listProjects()).find((p) => p.key === key);
      if (existing && existing.name === name) {
        return {
          outcome: 'done',
          json: { target: target.kind, project: existing.key, created: false, projectDetails: existing },
          text: `project ${existing.key} ("${existing.name}") already exists in ${target.location}; nothing changed`,
        };
      }
      const project = await target.createProject(key, name);
      return {
        outcome: 'done',
        json: { target: target.kind, project: project.key, created: true, projectDetails: project },
        text: `created project ${project.key} ("${project.name}") in ${target.location}; invitations are on`,
      };
    },
  );
}

async function listProjects(out: Output, raw: CommonOptions): Promise<CommandResult> {
  const options = parseSettings(projectScopedSchema, raw);
  return withTarget(
    () => openTarget(options, out),
    async (target) => {
      const projects = await target.listProjects();
      const width = Math.max(0, ...projects.map((p) => p.key.length));
      const nameWidth = Math.max(0, ...projects.map((p) => p.name.length));
      return {
        outcome: 'done',
        json: { target: target.kind, projects },
        text: projects.length === 0
          ? `no projects in ${target.location}: create one with \`jsm-provision project create KEY --name "Name"\``
          : projects.map((p) => `${p.key.padEnd(width)}  ${p.name.padEnd(nameWidth)}  ${p.sendVerificationEmails ? 'invitations on' : 'invitations off ("Do not send account verification emails" is on)'}`).join('\n'),
      };
    },
  );
}

async function showProject(out: Output, raw: ProjectOptions): Promise<CommandResult> {
  const options = parseSettings(projectScopedSchema, raw);
  return withTarget(
    () => openTarget(options, out),
    async (target) => {
      const project = await resolveProject(target, options.project);
      const customers = await countCustomers(target, project, out);
      const invitations = { pending: 0, inDoubt: 0, sending: 0, failed: 0, sent: 0, suppressed: 0 };
      const jsonKey: Record<InvitationView, keyof typeof invitations> = { pending: 'pending', 'in-doubt': 'inDoubt', sending: 'sending', failed: 'failed', sent: 'sent', suppressed: 'suppressed' };
      for (const record of target.ledger.list(project.key)) invitations[jsonKey[invitationView(record)]]++;
      return {
        outcome: 'done',
        json: { target: target.kind, project: project.key, projectDetails: project, customers, invitations },
        text: [
          `${project.key}: ${project.name} (${target.kind === 'local' ? 'local store' : 'JSM'} ${target.location})`,
          ...(project.jsmVersion ? [`  JSM version: ${project.jsmVersion}`] : []),
          ...(project.deskId ? [`  service desk id: ${project.deskId}`] : []),
          `  ${settingLine(project)}`,
          `  customers: ${customers ?? 'not known (this instance does not list a desk\'s customers over REST)'}`,
          `  invitations: ${invitations.pending} pending, ${invitations.inDoubt} in-doubt, ${invitations.sending > 0 ? `${invitations.sending} being sent now, ` : ''}${invitations.failed} failed, ${invitations.sent} sent, ${invitations.suppressed} suppressed`,
        ].join('\n'),
      };
    },
  );
}

async function setNotifications(out: Output, raw: ProjectOptions): Promise<CommandResult> {
  const options = parseSettings(setNotificationsSchema, raw);
  const send = options.verification;
  return withTarget(
    () => openTarget(options, out),
    async (target) => {
      const current = await resolveProject(target, options.project);
      const change = await target.setSendVerificationEmails(current.key, send);
      const changed = change.previous === send ? ' (it already was)' : '';
      return {
        outcome: 'done',
        json: { target: target.kind, project: change.project.key, projectDetails: change.project, changed: change.previous !== send, notes: change.notes },
        text: [`${change.project.key}: ${settingLine(change.project)}${changed}`, ...change.notes.map((n) => `  ${n}`)].join('\n'),
      };
    },
  );
}

/** null when the target cannot list them (a JSM without the experimental customer listing). */
async function countCustomers(target: Target, project: ProjectInfo, out: Output): Promise<number | null> {
  let count = 0;
  try {
    for await (const _ of target.listCustomers(project)) count++;
  } catch (error) {
    if (error instanceof TargetError && error.code === 'customer-listing-unavailable') {
      out.warn(error.message);
      return null;
    }
    throw error;
  }
  return count;
}

function settingLine(project: ProjectInfo): string {
  return project.sendVerificationEmails
    ? 'invitations are sent to new customers ("Do not send account verification emails" is off)'
    : '"Do not send account verification emails" is on: no invitation goes out';
}
