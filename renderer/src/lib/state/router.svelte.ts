// Where the user is: the project list or one project. Kept in the URL hash so a reload
// (or the browser's back button) lands in the same place.
export type Route = { kind: 'projects' } | { kind: 'project'; projectId: number; tab?: 'train' };

function parse(hash: string): Route {
  const m = /^#\/project\/(\d+)(\/train)?$/.exec(hash);
  if (!m) return { kind: 'projects' };
  return m[2] ? { kind: 'project', projectId: Number(m[1]), tab: 'train' } : { kind: 'project', projectId: Number(m[1]) };
}

class Router {
  route = $state<Route>(parse(window.location.hash));

  constructor() {
    window.addEventListener('hashchange', () => (this.route = parse(window.location.hash)));
  }

  go(route: Route): void {
    window.location.hash = route.kind === 'project' ? `#/project/${route.projectId}${route.tab ? `/${route.tab}` : ''}` : '#/';
    this.route = route;
  }
}

export const router = new Router();
