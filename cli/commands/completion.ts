import { Command } from 'commander';
import { InputError } from '../../common/index.js';
import { loadAllGroups } from '../groups.js';
import { printLine } from '../output.js';
import { action } from '../program.js';

/** Every command path (`''` for the top level) with its subcommands and options. */
function commandTree(root: Command): Map<string, string[]> {
  const tree = new Map<string, string[]>();
  const walk = (cmd: Command, path: string) => {
    const words = [...cmd.commands.map((c) => c.name()), ...cmd.options.map((o) => o.long ?? o.short ?? '').filter(Boolean), '--help'];
    tree.set(path, words);
    for (const sub of cmd.commands) walk(sub, path ? `${path} ${sub.name()}` : sub.name());
  };
  walk(root, '');
  return tree;
}

/**
 * Bash: the words typed so far (options skipped) name a command path; the candidates are that
 * path's subcommands and options. The tree is baked into the script, so completing costs no
 * Node start.
 */
function bashScript(tree: Map<string, string[]>): string {
  const cases = [...tree].map(([path, words]) => `    "${path}") words="${words.join(' ')}" ;;`).join('\n');
  return `# charter completion for bash: source it, e.g. charter completion bash > ~/.charter-completion.bash && echo 'source ~/.charter-completion.bash' >> ~/.bashrc
_charter_complete() {
  local path="" w words i
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    [[ "$w" == -* ]] && continue
    case "\${path:+$path }$w" in
${[...tree.keys()]
  .filter(Boolean)
  .map((p) => `      "${p}") path="${p}" ;;`)
  .join('\n')}
    esac
  done
  case "$path" in
${cases}
    *) words="" ;;
  esac
  COMPREPLY=($(compgen -W "$words" -- "\${COMP_WORDS[COMP_CWORD]}"))
}
complete -o default -F _charter_complete charter
`;
}

/** Zsh runs the bash function through bashcompinit. */
function zshScript(tree: Map<string, string[]>): string {
  return `# charter completion for zsh: charter completion zsh > ~/.charter-completion.zsh && echo 'source ~/.charter-completion.zsh' >> ~/.zshrc
autoload -Uz bashcompinit && bashcompinit
${bashScript(tree).split('\n').slice(1).join('\n')}`;
}

export function registerCompletion(program: Command): void {
  program
    .command('completion')
    .argument('<shell>', 'bash or zsh')
    .addHelpText(
      'after',
      "\nExamples:\n  $ charter completion bash > ~/.charter-completion.bash && echo 'source ~/.charter-completion.bash' >> ~/.bashrc\n  $ charter completion zsh > ~/.charter-completion.zsh",
    )
    .action(
      action(async (shell: string) => {
        if (shell !== 'bash' && shell !== 'zsh') throw new InputError(`unknown shell '${shell}' (bash or zsh)`, { field: '<shell>' });
        const all = new Command('charter').option('--home <dir>').option('--verbose');
        await loadAllGroups(all);
        const tree = commandTree(all);
        printLine(shell === 'bash' ? bashScript(tree) : zshScript(tree));
      }),
    );
}
