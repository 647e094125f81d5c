// Shared helpers for the views tests: a small Spikformer-shaped module built
// in code (so tests do not depend on LibTorch or the bundled model).
#pragma once

#include "ir/module.h"

#include <QString>

namespace stc::views {
class MainWindow;
}

namespace stc::test {

// patch_embed (conv-bn-lif), one block (attn q/k/v linear+lif, q@k^T, @v,
// proj, residual; mlp fc1/fc2 with lif, residual), head (mean over tokens
// and time, linear). Input f32[1,28,28], T = 4, 10 classes.
ir::Module makeTinySpikformer(int blocks = 1);

// Writes the module as Spike IR text to a temporary .sir file; returns its path.
QString writeSir(const ir::Module& m, const QString& name = "tiny.sir");

// Opens `path` in the window and waits for the open and then for every job it
// started (layout, compile, map + package); returns whether the open succeeded.
bool openAndWait(views::MainWindow& w, const QString& path, int timeoutMs = 60000);

} // namespace stc::test
