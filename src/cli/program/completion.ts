import { Argument, Command, type Option } from 'commander';
import { io } from '../io/io.js';

/**
 * `jsm-provision completion bash|zsh|fish`: a completion script made from the commander tree, so
 * it always knows the commands and options this version has.
 */
export function completionCommand(program: Command): Command {
  return new Command('completion')
    .description('print a shell completion script: bash, zsh or fish')
    .addArgument(new Argument('<shell>', 'bash, zsh or fish').choices(['bash', 'zsh', 'fish']))
    .addHelpText(
      'after',
      '\nExamples:\n  $ source <(jsm-provision completion bash)          # in ~/.bashrc\n  $ jsm-provision completion zsh > "${fpath[1]}/_jsm-provision"\n  $ jsm-provision completion fish > ~/.config/fish/completions/jsm-provision.fish',
    )
    .action((shell: string) => {
      io().stdout.write(completionScript(program, shell as 'bash' | 'zsh' | 'fish'));
    });
}

interface Entry {
  /** The words before: '' for the top level, 'project' for its subcommands. */
  path: string;
  subcommands: string[];
  options: string[];
  /** Options that take a value: their choices, 'path' (files are offered), or 'text' (nothing is). */
  values: Map<string, string[] | 'path' | 'text'>;
  /** The choices of its first argument, when it has some (`completion <shell>`). */
  argumentChoices: string[];
}

function entries(program: Command): Entry[] {
  const list: Entry[] = [];
  const walk = (command: Command, path: string): void => {
    const values = new Map<string, string[] | 'path' | 'text'>();
    for (const o of command.options as Option[]) {
      if (!o.required && !o.optional) continue;
      // A path by the name of its value (<file>, <dir>, <file.csv|file.json>, <path-or-url>).
      const kind = o.argChoices ?? (/<[^>]*(file|dir|path)[^>]*>/.test(o.flags) ? 'path' : 'text');
      for (const flag of [o.long, o.short]) if (flag) values.set(flag, kind);
    }
    list.push({
      path,
      subcommands: command.commands.map((c) => c.name()),
      options: [...command.options.flatMap((o: Option) => [o.long, o.short].filter((f): f is string => Boolean(f))), '--help'],
      values,
      argumentChoices: command.registeredArguments[0]?.argChoices ?? [],
    });
    for (const sub of command.commands) walk(sub, path ? `${path} ${sub.name()}` : sub.name());
  };
  walk(program, '');
  return list;
}

export function completionScript(program: Command, shell: 'bash' | 'zsh' | 'fish'): string {
  const list = entries(program);
  if (shell === 'fish') return fish(list);
  const cases = list
    .map((e) => `    "${e.path}") words="${[...e.subcommands, ...e.argumentChoices, ...e.options].join(' ')}" ;;`)
    .join('\n');
  // After an option that takes a value: its choices, or files (every other value here is a path or free text).
  const valueCases = list
    .flatMap((e) =>
      [...e.values].map(([flag, kind]) => {
        const reply = kind === 'path' ? '_jsm_provision_files' : kind === 'text' ? 'COMPREPLY=()' : `COMPREPLY=( $(compgen -W "${kind.join(' ')}" -- "$cur") )`;
        return `    "${e.path}|${flag}") ${reply}; return ;;`;
      }),
    )
    .join('\n');
  const body = `_jsm_provision() {
  local cur prev path word i
  cur="\${COMP_WORDS[COMP_CWORD]}"
  prev="\${COMP_WORDS[COMP_CWORD-1]}"
  path=""
  for ((i = 1; i < COMP_CWORD; i++)); do
    word="\${COMP_WORDS[i]}"
    case "$word" in -*) continue ;; esac
    case " $(_jsm_provision_subcommands "$path") " in
      *" $word "*) path="\${path:+$path }$word" ;;
    esac
  done
  case "$path|$prev" in
${valueCases}
  esac
  local words
  case "$path" in
${cases}
    *) words="" ;;
  esac
  COMPREPLY=( $(compgen -W "$words" -- "$cur") )
  case "$cur" in -*) ;; *) [ \${#COMPREPLY[@]} -eq 0 ] && _jsm_provision_files ;; esac
}
# Files and folders, one per line (names with spaces stay whole), folders ending in / (-o filenames).
_jsm_provision_files() {
  local IFS=$'\\n'
  COMPREPLY=( $(compgen -f -- "$cur") )
  compopt -o filenames 2>/dev/null
}
_jsm_provision_subcommands() {
  case "$1" in
${list.map((e) => `    "${e.path}") echo "${e.subcommands.join(' ')}" ;;`).join('\n')}
  esac
}
`;
  // No `-o default`: bash would offer file names wherever the function offers nothing, after
  // --project or --profile too; the function offers files itself where a path belongs.
  if (shell === 'bash') return `# bash completion for jsm-provision\n${body}complete -F _jsm_provision jsm-provision\n`;
  return `#compdef jsm-provision\n# zsh completion for jsm-provision (through bash completion)\nautoload -U +X bashcompinit && bashcompinit\n${body}complete -F _jsm_provision jsm-provision\n`;
}

function fish(list: Entry[]): string {
  const lines = ['# fish completion for jsm-provision'];
  const groups = new Set(list.filter((e) => e.subcommands.length > 0).map((e) => e.path));
  for (const e of list) {
    const words = e.path === '' ? [] : e.path.split(' ');
    const seen =
      words.length === 0
        ? `__fish_use_subcommand`
        : `__fish_seen_subcommand_from ${words[words.length - 1]}${words.length > 1 ? `; and __fish_seen_subcommand_from ${words[0]}` : ''}`;
    // A group's subcommands until one of them is given; then that subcommand's own completions.
    const condition = groups.has(e.path) && words.length > 0 ? `${seen}; and not __fish_seen_subcommand_from ${e.subcommands.join(' ')}` : seen;
    // Where subcommands are offered, no files; a command's own arguments are files (or its choices).
    if (e.subcommands.length > 0) lines.push(`complete -c jsm-provision -n '${condition}' -f -a '${e.subcommands.join(' ')}'`);
    if (e.argumentChoices.length > 0) lines.push(`complete -c jsm-provision -n '${condition}' -f -a '${e.argumentChoices.join(' ')}'`);
    for (const option of e.options) {
      const kind = e.values.get(option);
      // -r: takes a value; -x (-r and no files) with its choices or for text, -F for a path.
      const takes = kind === undefined ? '' : kind === 'path' ? ' -r -F' : kind === 'text' ? ' -x' : ` -x -a '${kind.join(' ')}'`;
      if (option.startsWith('--')) lines.push(`complete -c jsm-provision -n '${condition}' -l ${option.slice(2)}${takes}`);
      else lines.push(`complete -c jsm-provision -n '${condition}' -s ${option.slice(1)}${takes}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
