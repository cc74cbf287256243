/**
 * The ids of the commands that one plugin offers and others run.
 */
export const CommandIDs = {
  /**
   * Open the run history of a cell: `{ path, cellId }`, or the active cell of the current
   * notebook.
   */
  openCellHistory: 'collab-exec:open-cell-history',
  /**
   * Show the Activity panel of the current notebook.
   */
  showActivity: 'collab-exec:show-activity'
} as const;
