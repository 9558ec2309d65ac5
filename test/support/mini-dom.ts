/**
 * The smallest DOM real Preact renders into, for unit tests of components (no DOM library
 * is installed): elements, text and comment nodes, attributes, inline style, listeners,
 * and `toHtml` to read back what was rendered. Layout is absent (sizes are 0).
 */

const HTML_NS = 'http://www.w3.org/1999/xhtml';
const VOID = new Set(['br', 'hr', 'img', 'input', 'meta', 'link']);

abstract class MiniNode {
  abstract readonly nodeType: number;
  parentNode: MiniElement | null = null;
  readonly childNodes: MiniNode[] = [];
  readonly ownerDocument: MiniDocument;

  constructor(doc: MiniDocument) {
    this.ownerDocument = doc;
  }

  get firstChild(): MiniNode | null {
    return this.childNodes[0] ?? null;
  }

  get nextSibling(): MiniNode | null {
    const siblings = this.parentNode?.childNodes;
    if (!siblings) return null;
    return siblings[siblings.indexOf(this) + 1] ?? null;
  }

  insertBefore(node: MiniNode, before: MiniNode | null): MiniNode {
    node.remove();
    const index = before ? this.childNodes.indexOf(before) : -1;
    if (index === -1) this.childNodes.push(node);
    else this.childNodes.splice(index, 0, node);
    node.parentNode = this as unknown as MiniElement;
    return node;
  }

  appendChild(node: MiniNode): MiniNode {
    return this.insertBefore(node, null);
  }

  removeChild(node: MiniNode): MiniNode {
    node.remove();
    return node;
  }

  remove(): void {
    const siblings = this.parentNode?.childNodes;
    if (siblings) siblings.splice(siblings.indexOf(this), 1);
    this.parentNode = null;
  }

  get textContent(): string {
    return this.childNodes.map((child) => child.textContent).join('');
  }
}

class MiniText extends MiniNode {
  readonly nodeType: number = 3;
  constructor(
    doc: MiniDocument,
    public data: string,
  ) {
    super(doc);
  }
  override get textContent(): string {
    return this.data;
  }
}

class MiniComment extends MiniText {
  override readonly nodeType = 8;
  override get textContent(): string {
    return '';
  }
}

type Listener = (event: MiniEvent) => void;

export interface MiniEvent {
  type: string;
  target: MiniElement;
  currentTarget: MiniElement;
  defaultPrevented: boolean;
  preventDefault(): void;
  stopPropagation(): void;
}

export class MiniElement extends MiniNode {
  readonly nodeType = 1;
  readonly attributes = new Map<string, string>();
  readonly listeners = new Map<string, Set<Listener>>();
  readonly style: Record<string, string> & { cssText: string; setProperty(name: string, value: string): void };

  constructor(
    doc: MiniDocument,
    readonly localName: string,
    readonly namespaceURI: string,
  ) {
    super(doc);
    const style = { cssText: '' } as MiniElement['style'];
    Object.defineProperty(style, 'setProperty', { value: (name: string, value: string) => (style[name] = value) });
    this.style = style;
  }

  get tagName(): string {
    return this.localName.toUpperCase();
  }

  /** The `class` attribute as a token list (what hooks that mark an element use). */
  get classList(): { add(name: string): void; remove(name: string): void; contains(name: string): boolean } {
    const names = () => new Set((this.getAttribute('class') ?? '').split(/\s+/).filter(Boolean));
    const write = (set: Set<string>) => this.setAttribute('class', [...set].join(' '));
    return {
      add: (name) => write(names().add(name)),
      remove: (name) => {
        const set = names();
        set.delete(name);
        write(set);
      },
      contains: (name) => names().has(name),
    };
  }

  setAttribute(name: string, value: unknown): void {
    this.attributes.set(name, String(value));
  }
  getAttribute(name: string): string | null {
    return this.attributes.get(name) ?? null;
  }
  removeAttribute(name: string): void {
    this.attributes.delete(name);
  }

  addEventListener(type: string, listener: Listener): void {
    if (!this.listeners.has(type)) this.listeners.set(type, new Set());
    this.listeners.get(type)!.add(listener);
  }
  removeEventListener(type: string, listener: Listener): void {
    this.listeners.get(type)?.delete(listener);
  }

  /** Fires a bubbling event at this element (what a click does, minus the default action). */
  dispatch(type: string): MiniEvent {
    let stopped = false;
    const event: MiniEvent = {
      type,
      target: this,
      currentTarget: this,
      defaultPrevented: false,
      preventDefault: () => (event.defaultPrevented = true),
      stopPropagation: () => (stopped = true),
    };
    for (let node: MiniElement | null = this; node && !stopped; node = node.parentNode) {
      event.currentTarget = node;
      for (const listener of node.listeners.get(type) ?? []) listener.call(node, event);
    }
    return event;
  }

  /** Elements below this one (depth first) that `test` accepts. */
  findAll(test: (element: MiniElement) => boolean): MiniElement[] {
    const found: MiniElement[] = [];
    for (const child of this.childNodes) {
      if (!(child instanceof MiniElement)) continue;
      if (test(child)) found.push(child);
      found.push(...child.findAll(test));
    }
    return found;
  }

  byTestId(id: string): MiniElement[] {
    return this.findAll((element) => element.getAttribute('data-testid') === id);
  }

  // Selectors are not implemented: nothing matches (tests use findAll/byTestId).
  querySelector(): null {
    return null;
  }
  querySelectorAll(): MiniElement[] {
    return [];
  }
  /** The favicon hook's data-unread (elements' dataset, enough for it). */
  readonly dataset: Record<string, string> = {};
  append(...nodes: MiniNode[]): void {
    for (const node of nodes) this.appendChild(node);
  }
  getBoundingClientRect() {
    return { top: 0, bottom: 0, left: 0, right: 0, width: 0, height: 0 };
  }
  scrollIntoView(): void {}
  focus(): void {}
  scrollTop = 0;
  readonly scrollHeight = 0;
  readonly clientHeight = 0;
}

export class MiniDocument {
  readonly head: MiniElement;
  readonly body: MiniElement;
  constructor() {
    this.head = new MiniElement(this, 'head', HTML_NS);
    this.body = new MiniElement(this, 'body', HTML_NS);
  }
  createElementNS(namespace: string | null, name: string): MiniElement {
    return new MiniElement(this, name, namespace ?? HTML_NS);
  }
  createElement(name: string): MiniElement {
    return this.createElementNS(HTML_NS, name);
  }
  createTextNode(data: string): MiniText {
    return new MiniText(this, data);
  }
  createComment(data: string): MiniComment {
    return new MiniComment(this, data);
  }
}

/** A container to render into, in a fresh document. */
export function miniContainer(): MiniElement {
  return new MiniDocument().body;
}

const escapeText = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const escapeAttribute = (text: string) => escapeText(text).replace(/"/g, '&quot;');

/** The node's children as HTML (listeners and style are not attributes, so not shown). */
export function toHtml(node: MiniElement): string {
  return node.childNodes.map(nodeHtml).join('');
}

function nodeHtml(node: MiniNode): string {
  if (node instanceof MiniComment) return '';
  if (node instanceof MiniText) return escapeText(node.data);
  const element = node as MiniElement;
  const attributes = [...element.attributes].map(([name, value]) => ` ${name}="${escapeAttribute(value)}"`).join('');
  if (VOID.has(element.localName)) return `<${element.localName}${attributes}>`;
  return `<${element.localName}${attributes}>${toHtml(element)}</${element.localName}>`;
}
