#include "store/schema.h"

#include <algorithm>

namespace stc::store {

namespace {

// Version 1. Timestamps are ISO 8601 UTC text ("2025-11-25T22:34:01.123Z").
// Metrics that a run may lack (a model that was not mapped) are NULL.
constexpr std::string_view kSchemaV1 = R"sql(
CREATE TABLE project (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  name TEXT NOT NULL,
  chip TEXT NOT NULL DEFAULT '',
  notes TEXT NOT NULL DEFAULT '',
  current_model_id INTEGER REFERENCES models(id) ON DELETE SET NULL,
  created_at TEXT NOT NULL,
  created_by TEXT NOT NULL
);
CREATE TABLE models (
  id INTEGER PRIMARY KEY,
  path TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  format TEXT NOT NULL,
  input_shape TEXT NOT NULL,
  timesteps INTEGER NOT NULL CHECK (timesteps >= 0),
  added_at TEXT NOT NULL,
  UNIQUE (path, sha256, input_shape, timesteps)
);
CREATE TABLE pipelines (
  name TEXT PRIMARY KEY,
  text TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE TABLE sweeps (
  id INTEGER PRIMARY KEY,
  created_at TEXT NOT NULL,
  tool_version TEXT NOT NULL,
  description TEXT NOT NULL
);
CREATE TABLE runs (
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('compile', 'accuracy', 'simulation')),
  created_at TEXT NOT NULL,
  tool_version TEXT NOT NULL,
  model_id INTEGER REFERENCES models(id),
  chip TEXT NOT NULL DEFAULT '',
  pipeline TEXT NOT NULL DEFAULT '',
  label TEXT NOT NULL DEFAULT '',
  sweep_id INTEGER REFERENCES sweeps(id) ON DELETE SET NULL,
  compile_run_id INTEGER REFERENCES runs(id) ON DELETE SET NULL,
  CHECK (compile_run_id IS NULL OR kind <> 'compile')
);
-- A measurement links to a compile run, not to another measurement.
CREATE TRIGGER runs_link_to_compile_run BEFORE INSERT ON runs
WHEN NEW.compile_run_id IS NOT NULL AND (SELECT kind FROM runs WHERE id = NEW.compile_run_id) IS NOT 'compile'
BEGIN SELECT RAISE(ABORT, 'compile_run_id does not name a compile run'); END;
CREATE INDEX runs_by_kind ON runs(kind, id);
CREATE INDEX runs_by_compile_run ON runs(compile_run_id);
CREATE INDEX runs_by_sweep ON runs(sweep_id);
CREATE TABLE run_params (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (run_id, name)
) WITHOUT ROWID;
CREATE TABLE compile_results (
  run_id INTEGER PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
  status TEXT NOT NULL CHECK (status IN ('ok', 'failed', 'cancelled')),
  seconds REAL NOT NULL,
  mapped INTEGER NOT NULL CHECK (mapped IN (0, 1)),
  not_mapped_reason TEXT NOT NULL DEFAULT '',
  cores_used INTEGER,
  chips_used INTEGER,
  utilization REAL,
  utilization_with_time REAL,
  step_time_ns REAL,
  latency_ns REAL,
  energy_pj REAL,
  synaptic_pj REAL,
  neuron_pj REAL,
  network_pj REAL,
  static_pj REAL,
  baseline_pj REAL,
  rates_measured INTEGER,
  projected_chip INTEGER,
  CHECK (mapped = 0 OR (cores_used IS NOT NULL AND energy_pj IS NOT NULL AND latency_ns IS NOT NULL))
);
CREATE TABLE pass_records (
  run_id INTEGER NOT NULL REFERENCES compile_results(run_id) ON DELETE CASCADE,
  position INTEGER NOT NULL CHECK (position >= 0),
  pass TEXT NOT NULL,
  entry TEXT NOT NULL,
  status TEXT NOT NULL,
  seconds REAL NOT NULL,
  changed INTEGER NOT NULL,
  diagnostics TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (run_id, position)
) WITHOUT ROWID;
-- value has no declared type: INTEGER statistics stay integers, REAL stay real.
CREATE TABLE pass_statistics (
  run_id INTEGER NOT NULL,
  position INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  name TEXT NOT NULL,
  value NOT NULL,
  PRIMARY KEY (run_id, position, seq),
  FOREIGN KEY (run_id, position) REFERENCES pass_records(run_id, position) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE TABLE accuracy_results (
  run_id INTEGER PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
  dataset TEXT NOT NULL,
  split TEXT NOT NULL,
  first_sample INTEGER NOT NULL CHECK (first_sample >= 0),
  samples INTEGER NOT NULL CHECK (samples >= 0),
  correct INTEGER NOT NULL CHECK (correct >= 0 AND correct <= samples),
  exec_path TEXT NOT NULL CHECK (exec_path IN ('float', 'fixed-point', 'chip-sim')),
  seconds REAL NOT NULL
);
CREATE TABLE simulation_results (
  run_id INTEGER PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
  simulator TEXT NOT NULL,
  samples INTEGER NOT NULL CHECK (samples >= 0),
  steps INTEGER NOT NULL CHECK (steps >= 0),
  step_time_ns REAL NOT NULL,
  latency_ns REAL NOT NULL,
  energy_pj REAL NOT NULL,
  seconds REAL NOT NULL
);
CREATE TABLE simulation_energy (
  run_id INTEGER NOT NULL REFERENCES simulation_results(run_id) ON DELETE CASCADE,
  layer TEXT NOT NULL,
  event TEXT NOT NULL,
  count INTEGER NOT NULL CHECK (count >= 0),
  energy_pj REAL NOT NULL,
  PRIMARY KEY (run_id, layer, event)
) WITHOUT ROWID;
)sql";

// Version 2: model versions keep their import diagnostics, compile results
// their provenance (chip descriptor hash, package written), and compile runs
// can be tagged ("deployed"). Added columns default to '' for older rows.
constexpr std::string_view kSchemaV2 = R"sql(
ALTER TABLE models ADD COLUMN diagnostics TEXT NOT NULL DEFAULT '';
ALTER TABLE compile_results ADD COLUMN chip_sha256 TEXT NOT NULL DEFAULT '';
ALTER TABLE compile_results ADD COLUMN package_path TEXT NOT NULL DEFAULT '';
-- Only compile runs have a compile_results row, so only they can be tagged.
CREATE TABLE run_tags (
  run_id INTEGER NOT NULL REFERENCES compile_results(run_id) ON DELETE CASCADE,
  tag TEXT NOT NULL CHECK (length(tag) > 0),
  note TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL,
  tool_version TEXT NOT NULL,
  PRIMARY KEY (run_id, tag)
) WITHOUT ROWID;
CREATE INDEX run_tags_by_tag ON run_tags(tag);
)sql";

} // namespace

const std::vector<Migration>& builtinMigrations()
{
    static const std::vector<Migration> steps = {{1, kSchemaV1}, {2, kSchemaV2}};
    return steps;
}

void applyMigrations(sql::Db& db, const std::vector<Migration>& steps)
{
    const int64_t from = db.queryInt("PRAGMA user_version");
    int64_t target = from;
    for (const auto& m : steps)
        target = std::max<int64_t>(target, m.toVersion);
    if (target == from)
        return;
    // PRAGMA foreign_keys is a no-op inside a transaction, so it is switched here.
    db.exec("PRAGMA foreign_keys = OFF");
    try {
        sql::Transaction tx(db);
        for (const auto& m : steps) {
            if (m.toVersion <= from)
                continue;
            db.exec(m.sql, ("migration to schema version " + std::to_string(m.toVersion)).c_str());
            db.exec("PRAGMA user_version = " + std::to_string(m.toVersion));
        }
        sql::Statement check = db.prepare("PRAGMA foreign_key_check");
        if (check.step())
            throw Error(ErrorKind::Constraint, db.path() + ": migration to schema version " + std::to_string(target) +
                                                   " broke a reference in table '" + check.text(0) + "'");
        tx.commit();
    } catch (...) {
        db.exec("PRAGMA foreign_keys = ON");
        throw;
    }
    db.exec("PRAGMA foreign_keys = ON");
}

} // namespace stc::store
