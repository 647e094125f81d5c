// A disabled panel that says honestly what is missing and what is coming.
#pragma once

#include <QWidget>

class QLabel;

namespace stc::views {

class NotYetPanel : public QWidget {
    Q_OBJECT
public:
    NotYetPanel(const QString& title, const QString& explanation, QWidget* parent = nullptr);
    void setExplanation(const QString& explanation);
    QString explanation() const;

private:
    QLabel* text_;
};

} // namespace stc::views
