// The conversation tree: messages form a tree through parent_id (an edit or a regeneration adds a sibling);
// the branch on screen is the path from a root to the conversation's current leaf. Pure functions, no DOM.

function byTime(a, b) {
  if (a.created_at !== b.created_at) return a.created_at < b.created_at ? -1 : 1;
  return a._order - b._order; // same timestamp: the server's order (oldest first)
}

/** Index messages: {byId: Map, children: Map(parentId|null → [Message] oldest first)}. */
export function buildTree(messages) {
  const byId = new Map();
  const children = new Map();
  messages.forEach((m, k) => {
    const node = { ...m, _order: k };
    byId.set(m.id, node);
  });
  for (const m of byId.values()) {
    const parent = m.parent_id && byId.has(m.parent_id) ? m.parent_id : null;
    if (!children.has(parent)) children.set(parent, []);
    children.get(parent).push(m);
  }
  for (const list of children.values()) list.sort(byTime);
  return { byId, children };
}

/** Follow the most recently created child from `id` down to a leaf (the deepest leaf of that branch). */
export function deepestLeaf(tree, id) {
  let cur = id;
  for (let guard = 0; guard < 100000; guard++) {
    const kids = tree.children.get(cur);
    if (!kids || kids.length === 0) return cur;
    cur = kids[kids.length - 1].id;
  }
  return cur;
}

/** The leaf to show when the conversation names none (or names one that is gone). */
export function defaultLeaf(tree) {
  const roots = tree.children.get(null);
  if (!roots || roots.length === 0) return null;
  return deepestLeaf(tree, roots[roots.length - 1].id);
}

/** Messages from the root down to `leafId` (inclusive). */
export function pathTo(tree, leafId) {
  const path = [];
  const seen = new Set();
  let cur = leafId && tree.byId.has(leafId) ? tree.byId.get(leafId) : null;
  while (cur && !seen.has(cur.id)) {
    seen.add(cur.id);
    path.push(cur);
    cur = cur.parent_id ? tree.byId.get(cur.parent_id) : null;
  }
  return path.reverse();
}

/** The branch on screen: the path to `leafId` if it exists, else to the default leaf. */
export function visiblePath(tree, leafId) {
  const leaf = leafId && tree.byId.has(leafId) ? leafId : defaultLeaf(tree);
  return leaf ? pathTo(tree, leaf) : [];
}

/** {index (0-based), count, siblings} of a message among its parent's children. */
export function siblingInfo(tree, id) {
  const m = tree.byId.get(id);
  if (!m) return { index: 0, count: 1, siblings: [] };
  const parent = m.parent_id && tree.byId.has(m.parent_id) ? m.parent_id : null;
  const siblings = tree.children.get(parent) || [m];
  return { index: Math.max(0, siblings.findIndex((s) => s.id === id)), count: siblings.length, siblings };
}

/** The leaf to switch to when moving `delta` (±1) among the siblings of message `id`, or null at the ends. */
export function switchBranch(tree, id, delta) {
  const { index, siblings } = siblingInfo(tree, id);
  const target = siblings[index + delta];
  return target ? deepestLeaf(tree, target.id) : null;
}
