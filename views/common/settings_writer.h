// Writes QSettings values off the GUI thread. QSettings::sync() saves the
// file through QSaveFile, which fsyncs it; the recent-files update after an
// opened file took 5-17 ms on the GUI thread in bench_studio.
// Writes run in order on one background thread; readers that must see a
// value at once keep their own in-memory copy (MainWindow's recent files).
#pragma once

#include <QString>
#include <QVariant>

namespace stc::views::settings {

// Starts the writer thread. Call at start-up: creating a thread later, on the
// GUI thread, waited up to 100 ms for the dynamic loader's lock while a job
// loaded plugins.
void startWriter();

// Sets `key` to `value` (an invalid QVariant removes the key) asynchronously.
void writeLater(const QString& key, const QVariant& value);

// Blocks until every queued write is on disk (shutdown, tests).
void waitForWrites();

} // namespace stc::views::settings
