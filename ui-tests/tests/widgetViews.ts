/**
 * What the widget specs read and do in a view: sliders and their readouts, and the
 * widget errors that a view shows or that its browser logs.
 */
import type { IJupyterLabPageFixture } from '@jupyterlab/galata';
import type { Locator } from '@playwright/test';

import { expect, type ICollab } from './fixtures';
import { cellLocator } from './helpers';

export function sliders(page: IJupyterLabPageFixture, cell: number): Locator {
  return cellLocator(page, cell).locator('.widget-slider');
}

export function readout(
  page: IJupyterLabPageFixture,
  cell: number,
  nth = 0
): Locator {
  return sliders(page, cell).nth(nth).locator('.widget-readout');
}

/**
 * Type a value into a slider's readout, as a user can instead of dragging.
 */
export async function setSlider(
  page: IJupyterLabPageFixture,
  cell: number,
  value: number,
  nth = 0
): Promise<void> {
  const box = readout(page, cell, nth);
  await box.click();
  await page.keyboard.press('Control+A');
  await page.keyboard.type(String(value));
  await page.keyboard.press('Enter');
}

export async function expectNoWidgetError(
  page: IJupyterLabPageFixture
): Promise<void> {
  await expect(
    page.locator('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook')
  ).not.toContainText(
    /Error displaying widget|model not found|Click to show javascript error/
  );
}

/**
 * What a browser logs when a widget model takes a value that its views cannot use, or a
 * view fails: collected from now on, for a spec to check that it stays empty.
 */
const WIDGET_STATE_ERROR =
  /Error setting state|Error serializing widget state|Could not create view|Error creating widget|Click to show javascript error/;

export function collectWidgetStateErrors(
  page: IJupyterLabPageFixture
): string[] {
  const errors: string[] = [];
  page.on('console', message => {
    const text = message.text();
    if (WIDGET_STATE_ERROR.test(text)) {
      errors.push(text);
    }
  });
  return errors;
}

/**
 * Open a new notebook for the page's user and another user, collecting both browsers'
 * widget state errors from the start.
 */
export async function openForTwoWatched(
  page: IJupyterLabPageFixture,
  collab: ICollab,
  name: string,
  sources: string[]
): Promise<{ path: string; other: IJupyterLabPageFixture; errors: string[] }> {
  const errors = collectWidgetStateErrors(page);
  const opened = await collab.openForTwo(name, sources);
  errors.push(...collectWidgetStateErrors(opened.other));
  return { ...opened, errors };
}
