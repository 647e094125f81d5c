#include "sim/probability_bars.h"

#include "common/theme.h"

#include <QPainter>

namespace stc::views::sim {

ProbabilityBars::ProbabilityBars(QWidget* parent) : QWidget(parent)
{
    setObjectName("probabilityBars");
    setMinimumHeight(120);
}

void ProbabilityBars::setData(QStringList classes, std::vector<float> probabilities, int predicted, int label)
{
    classes_ = std::move(classes);
    p_ = std::move(probabilities);
    predicted_ = predicted;
    label_ = label;
    update();
}

void ProbabilityBars::paintEvent(QPaintEvent*)
{
    QPainter p(this);
    p.setRenderHint(QPainter::Antialiasing);
    const bool dark = theme::isDark(palette());
    p.fillRect(rect(), palette().color(QPalette::Base));
    QFont title = font();
    title.setBold(true);
    p.setFont(title);
    p.setPen(palette().color(QPalette::Text));
    const int titleH = fontMetrics().height() + 6;
    p.drawText(QRect(8, 2, width() - 16, titleH), Qt::AlignLeft | Qt::AlignVCenter, "Prediction (softmax of logits)");
    if (p_.empty()) {
        p.setFont(font());
        p.setPen(palette().color(QPalette::PlaceholderText));
        p.drawText(rect(), Qt::AlignCenter, "no run yet");
        return;
    }
    QFont f = font();
    f.setPointSizeF(f.pointSizeF() * 0.9);
    p.setFont(f);
    const QFontMetrics fm(f);
    QFont bold = f;
    bold.setBold(true); // the predicted class is drawn bold: size the column for that
    const QFontMetrics fmBold(bold);
    int nameW = 0;
    for (const QString& c : classes_)
        nameW = std::max(nameW, fmBold.horizontalAdvance(c) + 2);
    const int n = int(p_.size());
    const double rowH = std::max(10.0, double(height() - titleH - 6) / n);
    const int barX = 8 + nameW + 8;
    const int pctW = fm.horizontalAdvance("100.0 %") + 8;
    const int barW = std::max(20, width() - barX - pctW - 8);
    const QColor accent = theme::categoryColor("conv", dark);
    const QColor muted = dark ? QColor("#4a5260") : QColor("#c9d2de");
    for (int i = 0; i < n; ++i) {
        const QRectF row(0, titleH + i * rowH, width(), rowH);
        const QString name = i < classes_.size() ? classes_[i] : QString::number(i);
        QFont nf = f;
        nf.setBold(i == predicted_);
        p.setFont(nf);
        p.setPen(i == label_ ? theme::okColor(dark) : palette().color(QPalette::Text));
        p.drawText(QRectF(8, row.top(), nameW, rowH), Qt::AlignRight | Qt::AlignVCenter,
                   name + (i == label_ ? QString() : QString()));
        const double h = std::min(rowH - 3, 14.0);
        const QRectF track(barX, row.center().y() - h / 2, barW, h);
        p.setPen(Qt::NoPen);
        p.setBrush(dark ? QColor(255, 255, 255, 14) : QColor(0, 0, 0, 10));
        p.drawRoundedRect(track, 2, 2);
        p.setBrush(i == predicted_ ? accent : muted);
        p.drawRoundedRect(QRectF(track.left(), track.top(), std::max(1.0, track.width() * double(p_[size_t(i)])), h), 2, 2);
        p.setFont(f);
        p.setPen(palette().color(QPalette::PlaceholderText));
        p.drawText(QRectF(barX + barW + 4, row.top(), pctW, rowH), Qt::AlignLeft | Qt::AlignVCenter,
                   QString::number(double(p_[size_t(i)]) * 100.0, 'f', 1) + " %");
    }
    if (label_ >= 0) {
        p.setPen(theme::okColor(dark));
        p.setFont(f);
        p.drawText(QRect(8, 2, width() - 16, titleH), Qt::AlignRight | Qt::AlignVCenter, "green = true label");
    }
}

} // namespace stc::views::sim
