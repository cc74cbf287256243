/**
 * Widget libraries from the page's webpack share scope. JupyterLab's extension builder puts
 * each extension's own package there (bqplot, jupyter-matplotlib, ...), and the widget
 * extension keeps its registry of widget modules to itself: a widget manager that is the
 * first of the page, with no kernel, learns a third-party module here when a model needs it.
 * A library that does not share its package (anywidget, built with rspack) is not found.
 */
import type { ExportMap, IWidgetRegistryData } from '@jupyter-widgets/base';

/**
 * One version of a shared package, as webpack's share scope holds it.
 */
interface ISharedVersion {
  get(): Promise<() => unknown>;
}

type ShareScopes = Record<
  string,
  Record<string, Record<string, ISharedVersion>>
>;

declare const __webpack_share_scopes__: ShareScopes | undefined;

function shareScopes(): ShareScopes | undefined {
  return typeof __webpack_share_scopes__ === 'undefined'
    ? undefined
    : __webpack_share_scopes__;
}

/**
 * The widget module of that name from the default share scope, in its highest version, or
 * null when the page shares no such package.
 */
export async function sharedWidgetModule(
  name: string
): Promise<IWidgetRegistryData | null> {
  const versions = shareScopes()?.default?.[name];
  const found = Object.keys(versions ?? {}).sort(compareVersions);
  const version = found[found.length - 1];
  if (!versions || version === undefined) {
    return null;
  }
  try {
    const factory = await versions[version].get();
    return { name, version, exports: factory() as ExportMap };
  } catch (error) {
    console.warn(`jupyterlab-collab-exec: cannot load ${name}`, error);
    return null;
  }
}

function compareVersions(left: string, right: string): number {
  return left.localeCompare(right, undefined, { numeric: true });
}
