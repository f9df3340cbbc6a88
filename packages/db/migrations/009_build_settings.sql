-- Build settings of issue 19. A project may choose its Node.js version (a version or range,
-- `22`, `>=20 <23`; null: what the repository asks for, else the build image's), and each
-- deployment keeps the exact Node.js version its build ran, reported by the build-server.
ALTER TABLE projects ADD COLUMN node_version text;
-- The ignored build step: a command line run before each build; exit code 0 skips the build.
ALTER TABLE projects ADD COLUMN ignore_command text;
ALTER TABLE deployments ADD COLUMN node_version text;
