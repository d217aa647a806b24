import { Command } from 'commander';
export function importCsvCommand(): Command {
  return new Command('import-csv');
}
