import { Command } from 'commander';
import { printable } from '../../core/printable.js';
import { action, withTarget } from '../program/action.js';
import { openTarget, resolveProject } from '../runs/context.js';
import { addCommonOptions, addProjectOption, type CommonOptions } from '../settings/options.js';
import { parseSettings, projectScopedSchema } from '../settings/settings.js';
import type { Output } from '../io/output.js';
import type { CommandResult } from '../io/result.js';

export function organizationsCommand(): Command {
  const organizations = new Command('organizations').description('customer organizations (companies, departments, clients)');
  addCommonOptions(
    addProjectOption(
      organizations.command('list').description("list organizations with their member counts: a project's with --project, else all of them"),
    ),
  )
    .addHelpText('after', '\nExamples:\n  $ jsm-provision organizations list --project ITH\n  $ jsm-provision organizations list --json')
    .action(action('organizations list', listOrganizations));
  return organizations;
}

async function listOrganizations(out: Output, raw: CommonOptions): Promise<CommandResult> {
  const options = parseSettings(projectScopedSchema, raw);
  return withTarget(
    () => openTarget(options, out),
    async (target) => {
      const named = options.project !== undefined && options.project.trim() !== '';
      const project = named ? await resolveProject(target, options.project) : undefined;
      const organizations = await target.listOrganizations(project);
      const json = { target: target.kind, ...(project ? { project: project.key } : {}), count: organizations.length, organizations };
      const where = project ? project.key : printable(target.location);
      if (organizations.length === 0) return { outcome: 'done', json, text: `${where} has no organizations yet` };
      const width = Math.min(40, Math.max(...organizations.map((o) => printable(o.name).length)));
      const lines = organizations.map((o) => `${printable(o.name).padEnd(width)}  ${o.members} member${o.members === 1 ? '' : 's'}`);
      return { outcome: 'done', json, text: [...lines, `${organizations.length} organization(s) in ${where}`].join('\n') };
    },
  );
}
