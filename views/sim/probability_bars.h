// Predicted class with probabilities: one labelled bar per class, the
// predicted one highlighted, the true label marked. Custom-painted: ten rows
// of text read better than a chart axis squeezed into a dock.
#pragma once

#include <QWidget>

namespace stc::views::sim {

class ProbabilityBars : public QWidget {
    Q_OBJECT
public:
    explicit ProbabilityBars(QWidget* parent = nullptr);
    // Empty probabilities clear the widget.
    void setData(QStringList classes, std::vector<float> probabilities, int predicted, int label);
    QSize sizeHint() const override { return {260, 200}; }

protected:
    void paintEvent(QPaintEvent* event) override;

private:
    QStringList classes_;
    std::vector<float> p_;
    int predicted_ = -1;
    int label_ = -1;
};

} // namespace stc::views::sim
