#include "common/theme.h"

#include <QApplication>
#include <QStyle>
#include <QStyleFactory>

namespace stc::views::theme {

bool isDark(const QPalette& palette) { return palette.color(QPalette::Window).lightness() < 128; }

bool isDark() { return isDark(QApplication::palette()); }

QColor categoryColor(const QString& category, bool dark)
{
    struct Entry {
        const char* name;
        const char* light;
        const char* dark;
    };
    static const Entry entries[] = {
        {"conv", "#2f6fb3", "#5b9bdf"},   {"linear", "#7a4fb0", "#a883d8"}, {"neuron", "#d9822b", "#f2a65a"},
        {"norm", "#2e8b74", "#4fbfa2"},   {"arith", "#6b7685", "#9aa5b4"},  {"pool", "#3d8b3d", "#6cc36c"},
        {"io", "#b03a48", "#e26d7a"},     {"shape", "#8a8f98", "#a7acb5"},  {"group", "#4a5a78", "#8a9cc2"},
        {"const", "#8a8f98", "#a7acb5"},
    };
    for (const Entry& e : entries)
        if (category == QLatin1String(e.name))
            return QColor(dark ? e.dark : e.light);
    return dark ? QColor("#a7acb5") : QColor("#8a8f98");
}

QColor layerColor(int index, bool dark)
{
    // Golden-angle hue steps give neighbouring layers clearly different hues.
    const int hue = int(std::fmod(index * 137.508 + 20.0, 360.0));
    return QColor::fromHsv(hue, dark ? 150 : 200, dark ? 245 : 190);
}

QColor errorColor(bool dark) { return dark ? QColor("#ff6b6b") : QColor("#c62828"); }
QColor warningColor(bool dark) { return dark ? QColor("#ffc857") : QColor("#b26a00"); }
QColor okColor(bool dark) { return dark ? QColor("#6fcf79") : QColor("#2e7d32"); }

void apply(Mode mode)
{
    if (mode == Mode::System) {
        QApplication::setPalette(QApplication::style()->standardPalette());
        return;
    }
    QApplication::setStyle(QStyleFactory::create("Fusion"));
    QPalette p;
    if (mode == Mode::Dark) {
        const QColor window("#25282d"), base("#1d1f23"), text("#dfe3e8"), button("#2e3238"), highlight("#3d7bd9");
        p.setColor(QPalette::Window, window);
        p.setColor(QPalette::WindowText, text);
        p.setColor(QPalette::Base, base);
        p.setColor(QPalette::AlternateBase, QColor("#24272c"));
        p.setColor(QPalette::ToolTipBase, QColor("#30343a"));
        p.setColor(QPalette::ToolTipText, text);
        p.setColor(QPalette::PlaceholderText, QColor("#7d848e"));
        p.setColor(QPalette::Text, text);
        p.setColor(QPalette::Button, button);
        p.setColor(QPalette::ButtonText, text);
        p.setColor(QPalette::BrightText, Qt::white);
        p.setColor(QPalette::Highlight, highlight);
        p.setColor(QPalette::HighlightedText, Qt::white);
        p.setColor(QPalette::Link, QColor("#6aa5ff"));
        p.setColor(QPalette::Mid, QColor("#3a3f46"));
        p.setColor(QPalette::Midlight, QColor("#34383f"));
        p.setColor(QPalette::Dark, QColor("#17191c"));
        p.setColor(QPalette::Light, QColor("#3c4148"));
        p.setColor(QPalette::Disabled, QPalette::Text, QColor("#6b717a"));
        p.setColor(QPalette::Disabled, QPalette::WindowText, QColor("#6b717a"));
        p.setColor(QPalette::Disabled, QPalette::ButtonText, QColor("#6b717a"));
    } else {
        p = QApplication::style()->standardPalette();
        p.setColor(QPalette::Window, QColor("#f3f4f6"));
        p.setColor(QPalette::Base, Qt::white);
        p.setColor(QPalette::AlternateBase, QColor("#f6f7f9"));
        p.setColor(QPalette::Highlight, QColor("#2f6fd0"));
    }
    QApplication::setPalette(p);
}

} // namespace stc::views::theme
