// Colours that follow the application palette (light or dark).
#pragma once

#include <QColor>
#include <QPalette>
#include <QString>

namespace stc::views::theme {

bool isDark(const QPalette& palette);
bool isDark(); // the application palette
// Accent colour of an op category ("conv", "neuron", ...), see graph_data.h.
QColor categoryColor(const QString& category, bool dark);
// A distinct colour per layer index for rasters and charts.
QColor layerColor(int index, bool dark);
QColor errorColor(bool dark);
QColor warningColor(bool dark);
QColor okColor(bool dark);
// Fusion style with a dark or light palette, or the platform default.
enum class Mode { System, Light, Dark };
void apply(Mode mode);

} // namespace stc::views::theme
