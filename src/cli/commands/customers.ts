import { Command } from 'commander';
import { customersShowCommand } from './customers-show.js';
import type { CustomerView } from '../../core/types.js';
import { action, withTarget } from '../program/action.js';
import { openTarget, resolveProject } from '../runs/context.js';
import { addCommonOptions, addProjectOption, type CommonOptions } from '../settings/options.js';
import { parseSettings, projectScopedSchema } from '../settings/settings.js';
import type { Output } from '../io/output.js';
import type { CommandResult } from '../io/result.js';
import { columns, plural } from '../io/render.js';
import { addExportCommand } from './customers-export.js';
import { addRemoveCommand } from './customers-remove.js';

export function customersCommand(): Command {
  const customers = new Command('customers').description("list, show, export or remove a project's customers");
  addCommonOptions(addProjectOption(customers.command('list').description("list a project's customers (never their passwords)")))
    .addHelpText('after', '\nExample:\n  $ jsm-provision customers list --project ITH --json')
    .action(action('customers list', listCustomers));
  customers.addCommand(customersShowCommand());
  addExportCommand(customers);
  addRemoveCommand(customers);
  return customers;
}

async function listCustomers(out: Output, raw: CommonOptions): Promise<CommandResult> {
  const options = parseSettings(projectScopedSchema, raw);
  return withTarget(
    () => openTarget(options, out),
    async (target) => {
      const project = await resolveProject(target, options.project);
      const customers: CustomerView[] = [];
      // The account name stays inside (removals use it): the listing's JSON keys are as before.
      for await (const { account: _account, ...customer } of target.listCustomers(project)) customers.push(customer);
      const json = { target: target.kind, project: project.key, count: customers.length, customers };
      if (customers.length === 0) return { outcome: 'done', json, text: `${project.key} has no customers yet` };
      const lines = columns(
        customers.map((c) => [c.email, `${c.fullName}${c.mustChangePassword ? '  (must change password at first login)' : c.passwordSet ? '  (password set)' : ''}`]),
      );
      return { outcome: 'done', json, text: [...lines, `${plural(customers.length, 'customer')} in ${project.key}`].join('\n') };
    },
  );
}
