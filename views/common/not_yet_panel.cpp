#include "common/not_yet_panel.h"

#include <QLabel>
#include <QVBoxLayout>

namespace stc::views {

NotYetPanel::NotYetPanel(const QString& title, const QString& explanation, QWidget* parent) : QWidget(parent)
{
    setObjectName("notYet");
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(24, 24, 24, 24);
    layout->addStretch(1);
    auto* heading = new QLabel(QString("<b>%1</b> — not yet").arg(title.toHtmlEscaped()), this);
    heading->setAlignment(Qt::AlignCenter);
    heading->setEnabled(false);
    QFont f = heading->font();
    f.setPointSizeF(f.pointSizeF() * 1.15);
    heading->setFont(f);
    text_ = new QLabel(explanation, this);
    text_->setWordWrap(true);
    text_->setAlignment(Qt::AlignCenter);
    text_->setEnabled(false);
    text_->setMaximumWidth(520);
    layout->addWidget(heading);
    layout->addSpacing(6);
    layout->addWidget(text_, 0, Qt::AlignHCenter);
    layout->addStretch(2);
}

void NotYetPanel::setExplanation(const QString& explanation) { text_->setText(explanation); }
QString NotYetPanel::explanation() const { return text_->text(); }

} // namespace stc::views
