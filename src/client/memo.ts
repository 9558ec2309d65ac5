/**
 * A component that re-renders only when a prop changes (shallow, by identity), like
 * React's memo, without pulling in preact/compat and its global option hooks.
 */
import { Component, h, type ComponentType, type FunctionComponent } from 'preact';
import { shallowEqual } from './core/store.js';

export function memo<P extends object>(render: FunctionComponent<P>): ComponentType<P> {
  class Memo extends Component<P> {
    static override displayName = `Memo(${render.displayName ?? render.name})`;

    override shouldComponentUpdate(next: Readonly<P>): boolean {
      return !shallowEqual<object>(this.props, next);
    }

    override render(props: P) {
      return h(render, props);
    }
  }
  return Memo;
}
