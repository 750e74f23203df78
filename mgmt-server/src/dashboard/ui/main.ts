import './app.css';
import { type Child, h, replace } from './dom.js';
import { clusterPage, fleetPage, link, matrixPage, sourcePage } from './pages.js';

// The dashboard's shell: a hash router (so every page has a URL to share and the server serves
// one document), the name filter, and the live loop. The server's event stream only says "changed";
// the page then fetches its own view again, at most one fetch in flight, so a burst of changes
// costs one fetch per page, not one per change. Without the stream (refused past the server's cap,
// or a proxy that buffers it) the page polls.

const POLL_MS = 5_000;

type Route =
  | { readonly page: 'fleet'; readonly filter: string }
  | { readonly page: 'matrix'; readonly filter: string }
  | { readonly page: 'source'; readonly key: string }
  | { readonly page: 'cluster'; readonly name: string };

function parseRoute(hash: string): Route {
  const [path = '', query = ''] = hash.replace(/^#\/?/, '').split('?');
  const filter = new URLSearchParams(query).get('filter') ?? '';
  const [page = '', ...rest] = path.split('/');
  const arg = decodeURIComponent(rest.join('/'));
  if (page === 'source' && arg) return { page: 'source', key: arg };
  if (page === 'cluster' && arg) return { page: 'cluster', name: arg };
  return page === 'matrix' ? { page: 'matrix', filter } : { page: 'fleet', filter };
}

function apiPath(route: Route): string {
  switch (route.page) {
    case 'fleet':
      return `/api/fleet?filter=${encodeURIComponent(route.filter)}`;
    case 'matrix':
      return `/api/matrix?filter=${encodeURIComponent(route.filter)}`;
    case 'source':
      return `/api/source?key=${encodeURIComponent(route.key)}`;
    case 'cluster':
      return `/api/cluster?name=${encodeURIComponent(route.name)}`;
  }
}

const app = document.getElementById('app') ?? document.body;
const main = h('main', { id: 'main', tabindex: '-1', 'aria-busy': 'true' });
const status = h('p', { class: 'live', role: 'status', 'aria-live': 'polite' }, 'Connecting…');
const filterInput = h('input', {
  type: 'search',
  id: 'filter',
  name: 'filter',
  placeholder: 'e.g. prod-*, {qa,canary}',
  autocomplete: 'off',
  spellcheck: 'false',
});
const filterProblem = h('span', { class: 'problem', id: 'filter-problem', 'aria-live': 'polite' });
const navLinks = {
  fleet: h('a', { href: link.fleet() }, 'Fleet'),
  matrix: h('a', { href: link.matrix() }, 'Sources × clusters'),
};
const filterForm = h(
  'form',
  { class: 'filter', role: 'search', onsubmit: (e: Event) => e.preventDefault() },
  h('label', { for: 'filter' }, 'Cluster names'),
  filterInput,
  filterProblem,
);
replace(
  app,
  h(
    'a',
    {
      class: 'skip',
      href: '#main',
      // The hash is the router's: move focus without navigating.
      onclick: (e: Event) => {
        e.preventDefault();
        main.focus();
      },
    },
    'Skip to content',
  ),
  h(
    'header',
    {},
    h('span', { class: 'brand' }, 'Kuberelay'),
    h('nav', { 'aria-label': 'Pages' }, navLinks.fleet, navLinks.matrix),
    filterForm,
    status,
  ),
  main,
);

let route = parseRoute(location.hash);
let fetching = false;
let again = false;
let generation = -1;

async function refresh(): Promise<void> {
  if (fetching) {
    again = true;
    return;
  }
  fetching = true;
  const asked = route;
  try {
    const response = await fetch(apiPath(asked), { headers: { accept: 'application/json' } });
    const body: unknown = await response.json();
    if (asked !== route) return; // the user moved on; the finally block fetches the new page
    render(asked, response.status, body);
  } catch (error) {
    status.textContent = `Could not load: ${error instanceof Error ? error.message : String(error)}`;
  } finally {
    fetching = false;
    if (again || asked !== route) {
      again = false;
      void refresh();
    }
  }
}

function render(r: Route, code: number, body: unknown): void {
  let content: Child[];
  let problem: string | null = null;
  let title = 'Kuberelay';
  if (code === 404) {
    content = [
      h('h1', {}, 'Not found'),
      h(
        'p',
        {},
        r.page === 'source'
          ? 'No annotated source has this name (any more).'
          : 'No registered cluster has this name (any more).',
      ),
      h('p', {}, h('a', { href: link.fleet() }, 'Back to the fleet')),
    ];
  } else if (r.page === 'fleet') {
    const view = body as Parameters<typeof fleetPage>[0];
    problem = view.filterProblem;
    content = fleetPage(view);
    title = 'Fleet';
  } else if (r.page === 'matrix') {
    const view = body as Parameters<typeof matrixPage>[0];
    problem = view.filterProblem;
    content = matrixPage(view, setFilter);
    title = 'Sources × clusters';
  } else if (r.page === 'source') {
    content = sourcePage(body as Parameters<typeof sourcePage>[0]);
    title = `Source ${r.key}`;
  } else {
    content = clusterPage(body as Parameters<typeof clusterPage>[0]);
    title = `Cluster ${r.name}`;
  }
  document.title = `${title} · Kuberelay`;
  filterProblem.textContent = problem === null ? '' : `Not a glob: ${problem}`;
  replace(main, content);
  main.setAttribute('aria-busy', 'false');
  main.dataset.generation = String(generation);
  const at = (body as { generatedAt?: string }).generatedAt;
  status.textContent = `${live ? 'Live' : 'Polling'} · updated ${at ? new Date(at).toLocaleTimeString() : ''}`;
}

function setFilter(filter: string): void {
  filterInput.value = filter;
  const page = route.page === 'matrix' ? 'matrix' : 'fleet';
  location.hash = link[page](filter);
}

function onRoute(): void {
  route = parseRoute(location.hash);
  const filter = 'filter' in route ? route.filter : undefined;
  filterForm.hidden = filter === undefined;
  if (filter !== undefined && document.activeElement !== filterInput) filterInput.value = filter;
  navLinks.fleet.href = link.fleet(filter);
  navLinks.matrix.href = link.matrix(filter);
  for (const [page, a] of Object.entries(navLinks)) {
    if (page === route.page) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  main.setAttribute('aria-busy', 'true');
  void refresh();
}

let debounce: ReturnType<typeof setTimeout> | undefined;
filterInput.addEventListener('input', () => {
  clearTimeout(debounce);
  debounce = setTimeout(() => {
    const page = route.page === 'matrix' ? 'matrix' : 'fleet';
    history.replaceState(null, '', link[page](filterInput.value.trim()));
    onRoute();
  }, 200);
});
window.addEventListener('hashchange', onRoute);

let live = false;
let poll: ReturnType<typeof setInterval> | undefined;
function connect(): void {
  const events = new EventSource('/api/events');
  events.addEventListener('changed', (e) => {
    live = true;
    if (poll !== undefined) {
      clearInterval(poll);
      poll = undefined;
    }
    generation = Number((e as MessageEvent<string>).data);
    void refresh();
  });
  events.addEventListener('error', () => {
    live = false;
    status.textContent = 'Reconnecting…';
    // A refused stream (503 past the server's cap) is closed for good: poll instead, retry later.
    if (events.readyState === EventSource.CLOSED) {
      poll ??= setInterval(() => void refresh(), POLL_MS);
      setTimeout(connect, 4 * POLL_MS);
    }
  });
}

onRoute();
connect();
