// The model graph as QGraphicsItems, built from GraphData + Layout. The scene
// only renders; selection and collapse requests go out as signals.
#pragma once

#include "graph/graph_data.h"
#include "graph/graph_layout.h"

#include <QGraphicsItem>
#include <QGraphicsScene>

#include <map>
#include <set>

namespace stc::views::graph {

class NodeItem : public QGraphicsItem {
public:
    NodeItem(const Node& node, const NodeGeometry& geometry);
    QRectF boundingRect() const override;
    void paint(QPainter* painter, const QStyleOptionGraphicsItem* option, QWidget* widget) override;
    const Node& node() const { return node_; }
    void setError(bool error);
    void setHighlight(bool on); // search match / changed by a pass
    void setActivity(double firingRate); // < 0 = none
    bool hasError() const { return error_; }

protected:
    QVariant itemChange(GraphicsItemChange change, const QVariant& value) override;

private:
    Node node_;
    QRectF rect_;
    bool error_ = false;
    bool highlight_ = false;
    double firingRate_ = -1.0;
};

class GraphScene : public QGraphicsScene {
    Q_OBJECT
public:
    explicit GraphScene(QObject* parent = nullptr);

    void setGraph(GraphData data, const Layout& layout);
    const GraphData& graph() const { return data_; }
    NodeItem* itemForOp(int opIndex) const;
    NodeItem* itemForNode(int nodeId) const;
    void setErrorOps(const std::vector<int>& ops);
    void setActivity(const std::map<int, double>& firingRateByOp);
    // Highlights nodes whose title/subtitle contains `text`; returns matches in order.
    std::vector<int> search(const QString& text);
    void highlightOps(const std::set<int>& ops);
    void selectOp(int opIndex);

signals:
    void opSelected(int opIndex);           // -1 = none
    void groupToggleRequested(const QString& path);

protected:
    void mouseDoubleClickEvent(QGraphicsSceneMouseEvent* event) override;

private:
    GraphData data_;
    std::vector<NodeItem*> nodeItems_;
    std::vector<std::pair<QRectF, QString>> clusterRects_;
    bool updatingSelection_ = false;
};

} // namespace stc::views::graph
