// @platform/contracts is shared with the servers, and three of its modules import Node
// built-ins (paths, random ids, file access) that the dashboard never calls: the dashboard's
// own check runs without Node's types, so browser code cannot use Node globals by mistake,
// and these imports type as `any` there. The root project checks contracts with Node's types.
declare module 'node:*';
