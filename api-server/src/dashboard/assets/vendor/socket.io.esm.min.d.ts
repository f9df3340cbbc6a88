// Types for the socket.io browser client, which dashboard.ts serves at /dashboard/vendor/
// from the socket.io package's client-dist (this folder holds nothing served). The client
// is the same release as socket.io-client, so its declarations are that package's.
export { io, Socket } from 'socket.io-client';
