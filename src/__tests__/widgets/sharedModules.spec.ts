import { sharedWidgetModule } from '../../widgets/sharedModules';

type Scopes = Record<
  string,
  Record<string, Record<string, { get(): Promise<() => unknown> }>>
>;

function share(scopes: Scopes | undefined): void {
  (
    globalThis as unknown as { __webpack_share_scopes__?: Scopes }
  ).__webpack_share_scopes__ = scopes;
}

describe('sharedWidgetModule', () => {
  afterEach(() => {
    Reflect.deleteProperty(globalThis, '__webpack_share_scopes__');
    jest.restoreAllMocks();
  });

  it('finds nothing outside a webpack page', async () => {
    expect(await sharedWidgetModule('bqplot')).toBeNull();
  });

  it('gives the highest version of a shared package as a widget module', async () => {
    class Figure {}
    const loaded: string[] = [];
    const version = (name: string, exports: unknown) => ({
      get: async () => {
        loaded.push(name);
        return () => exports;
      }
    });
    share({
      default: {
        bqplot: {
          '0.6.1': version('0.6.1', { Figure }),
          '0.10.0': version('0.10.0', { Figure, newer: true }),
          '0.9.2': version('0.9.2', {})
        }
      }
    });
    const module = await sharedWidgetModule('bqplot');
    expect(module?.name).toBe('bqplot');
    expect(module?.version).toBe('0.10.0');
    expect(module?.exports).toEqual({ Figure, newer: true });
    expect(loaded).toEqual(['0.10.0']);
    expect(await sharedWidgetModule('anywidget')).toBeNull();
  });

  it('says why when a shared package fails to load', async () => {
    const warn = jest
      .spyOn(console, 'warn')
      .mockImplementation(() => undefined);
    share({
      default: {
        broken: { '1.0.0': { get: () => Promise.reject(new Error('offline')) } }
      }
    });
    expect(await sharedWidgetModule('broken')).toBeNull();
    expect(warn).toHaveBeenCalled();
  });
});
