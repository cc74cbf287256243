/**
 * Trust that the person in this page gave a cell's outputs: by running the cell with
 * JupyterLab's own executor (server execution turned off), or by trusting the notebook
 * ("Trust Notebook") while the cell shows outputs. Nothing read from the shared document
 * grants it, and it is never shared.
 */
import type { ICellModel } from '@jupyterlab/cells';

const granted = new WeakSet<ICellModel>();

/**
 * This page trusts what the cell shows and shows next, as JupyterLab trusts a cell it runs.
 */
export function grantLocalTrust(cell: ICellModel): void {
  granted.add(cell);
}

/**
 * The cell runs on the server now: its outputs are trusted as the server confirms them.
 */
export function revokeLocalTrust(cell: ICellModel): void {
  granted.delete(cell);
}

export function hasLocalTrust(cell: ICellModel): boolean {
  return granted.has(cell);
}
