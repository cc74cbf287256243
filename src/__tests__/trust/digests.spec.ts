import { OutputModel } from '@jupyterlab/rendermime';

import {
  outputDigest,
  jsonDigest,
  widgetEntryDigest
} from '../../trust/digests';
import { parseWidgetEntry } from '../../widgets/doc';
import fixture from '../../../jupyterlab_collab_exec/tests/fixtures/trust/digests.json';

/**
 * The server's digests of the same values (pytest checks its own against this file):
 * what a browser computes must be the same, or nothing it holds is ever confirmed.
 */
describe('Digests agree with the server', () => {
  it('of JSON values, numbers and strings included', () => {
    for (const { value, digest } of fixture.values) {
      expect(jsonDigest(value)).toBe(digest);
    }
  });

  it('of outputs, as they are and as JupyterLab holds them', () => {
    for (const { output, digest } of fixture.outputs) {
      expect(outputDigest(output)).toBe(digest);
      const held = new OutputModel({
        value: output as ConstructorParameters<typeof OutputModel>[0]['value']
      });
      expect(
        outputDigest(held.toJSON() as unknown as Record<string, unknown>)
      ).toBe(digest);
    }
  });

  it('of widget model entries, as the doc holds them', () => {
    for (const { entry, digest } of fixture.widget_entries) {
      const parsed = parseWidgetEntry({ ...entry, live: false });
      expect(parsed).not.toBeNull();
      expect(widgetEntryDigest(parsed!)).toBe(digest);
    }
  });

  it('of nothing without canonical JSON', () => {
    expect(jsonDigest({ value: NaN })).toBeNull();
    expect(jsonDigest(Infinity)).toBeNull();
  });
});
