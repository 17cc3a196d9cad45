// Unit tests of the conversation-tree helpers (branches, sibling switching).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildTree, pathTo, visiblePath, siblingInfo, switchBranch, deepestLeaf, defaultLeaf } from '../../../Sources/ParleyServer/Resources/ui/tree.js';

const t = (n) => `2025-01-01T00:00:${String(n).padStart(2, '0')}Z`;
const msg = (id, parent, role, n) => ({ id, parent_id: parent, role, content: id, created_at: t(n) });
// u1 ─ a1 ─ u2 ─ a2
//    └ a1b (regenerated)        u1b (edited first message) ─ a3
const messages = [
  msg('u1', null, 'user', 1), msg('a1', 'u1', 'assistant', 2), msg('u2', 'a1', 'user', 3), msg('a2', 'u2', 'assistant', 4),
  msg('a1b', 'u1', 'assistant', 5), msg('u1b', null, 'user', 6), msg('a3', 'u1b', 'assistant', 7),
];

test('paths and siblings', () => {
  const tree = buildTree(messages);
  assert.deepEqual(pathTo(tree, 'a2').map((m) => m.id), ['u1', 'a1', 'u2', 'a2']);
  assert.deepEqual(siblingInfo(tree, 'a1'), { index: 0, count: 2, siblings: tree.children.get('u1') });
  assert.equal(siblingInfo(tree, 'u1b').index, 1);
  assert.equal(siblingInfo(tree, 'u1b').count, 2);
  assert.equal(siblingInfo(tree, 'u2').count, 1);
});

test('switching goes to the deepest, most recent leaf of the target branch', () => {
  const tree = buildTree(messages);
  assert.equal(switchBranch(tree, 'a1', +1), 'a1b');
  assert.equal(switchBranch(tree, 'a1b', -1), 'a2');
  assert.equal(switchBranch(tree, 'a1', -1), null);
  assert.equal(switchBranch(tree, 'u1', +1), 'a3');
  assert.equal(switchBranch(tree, 'u1b', -1), 'a1b'); // u1's most recent child is a1b
  assert.equal(deepestLeaf(tree, 'u1'), 'a1b');
});

test('missing or unknown leaf falls back to the newest branch', () => {
  const tree = buildTree(messages);
  assert.equal(defaultLeaf(tree), 'a3');
  assert.deepEqual(visiblePath(tree, 'nope').map((m) => m.id), ['u1b', 'a3']);
  assert.deepEqual(visiblePath(buildTree([]), null), []);
});

test('same timestamps keep the server order; orphans become roots', () => {
  const tree = buildTree([msg('x', null, 'user', 1), msg('b', 'x', 'assistant', 2), msg('a', 'x', 'assistant', 2), msg('o', 'gone', 'user', 3)]);
  assert.deepEqual(tree.children.get('x').map((m) => m.id), ['b', 'a']);
  assert.equal(siblingInfo(tree, 'o').count, 2);
});
