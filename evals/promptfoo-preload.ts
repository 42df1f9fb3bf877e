// Preloaded into promptfoo's own CLI (`node --import`): the same environment and beacon guard
// Charter applies before it imports promptfoo, so `promptfoo import` of an exported Charter run
// writes under $CHARTER_HOME/promptfoo and phones nobody.
import { quietPromptfoo } from './promptfoo.js';

quietPromptfoo();
