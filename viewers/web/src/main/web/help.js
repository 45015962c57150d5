// Keyboard shortcuts, listed once: the help overlay is built from this table.

export const SHORTCUTS = [
  ['?', 'Show or hide this help'],
  ['Esc', 'Clear the selection; close dialogs'],
  ['/', 'Search nodes by label or id (Enter jumps to the next hit)'],
  ['click', 'Select a node (click again or on empty space to deselect)'],
  ['Ctrl/⌘ + click', 'Pin or unpin a node'],
  ['P', 'Pin or unpin the selected node'],
  ['[  /  ]', 'Go to the strongest input / output of the selected node'],
  ['L', 'Edit the label of the selected node'],
  ['Shift + click box', 'Select subgraph boxes for grouping'],
  ['G', 'Group the selected boxes into a supernode (or hold G and click boxes, then release)'],
  ['A', 'Show or hide all links in the graph'],
  ['0', 'Reset the graph zoom'],
  ['Ctrl/⌘ + S', 'Save annotations now (they also save automatically)'],
  ['N', 'New graph from a prompt (needs a model)'],
  ['T', 'Steering panel (needs a model)'],
];
