// Simulator panel: Fashion-MNIST test image browser, run / pause / step /
// reset, time-step scrubber, spike raster, value trace of a selected neuron
// and the predicted class with probabilities. Two engines: the bit-accurate
// chip simulator running the compiled package (default once the Floorplan has
// mapped a compile) and the f32 reference interpreter; the engine that
// produced the trace is always named. A run computes all T steps in a job
// (lane "simulate": a newer run or Reset cancels the older one); playback
// then reveals them step by step. A chip run also yields the measured energy
// ledger (measuredEnergyChanged).
#pragma once

#include "document/document.h"
#include "document/stages.h"
#include "sim/sim_trace.h"

#include <QWidget>

#include <map>

class QChartView;
class QComboBox;
class QLabel;
class QSlider;
class QSpinBox;
class QTimer;
class QToolButton;

namespace stc::data {
struct ImageSet;
}

namespace stc::views {

class JobRunner;

namespace sim {
class ProbabilityBars;
class SpikeRaster;
}

class SimulatorPanel : public QWidget {
    Q_OBJECT
public:
    enum class Engine { ChipSimulator, Reference };

    SimulatorPanel(Document* document, JobRunner* jobs, QWidget* parent = nullptr);
    ~SimulatorPanel() override;

    // A model or a package is open (without a model only the chip engine runs).
    bool available() const;
    Engine engine() const;
    // Chosen by the user: kept when packages come and go (otherwise the chip
    // simulator is picked whenever a package exists).
    void setEngine(Engine engine);
    bool chipSimulatorAvailable() const { return package_ != nullptr; }
    QComboBox* engineBox() const { return engineBox_; }
    QString engineText() const;
    // core/sim's ledger of the last chip run, as text (empty otherwise).
    QString ledgerText() const { return ledgerText_; }
    sim::TracePtr trace() const { return trace_; }
    sim::SpikeRaster* raster() const { return raster_; }
    int imageIndex() const;
    int imageLabel() const; // -1 if the dataset is not loaded or the input is not an image
    // Values one sample of the open model (else the package) takes; -1 if unknown.
    int64_t inputSize() const;
    // The model takes something else than a 28x28 image (a NIR or recurrent model's
    // input vector): the panel then feeds sim::uniformInput(inputSize(), index), said so.
    bool feedsRandomInput() const;
    static constexpr int64_t kImagePixels = 28 * 28; // a Fashion-MNIST image
    QString inputText() const; // "Fashion-MNIST test image #3" or "random U[0,1) input #3 (12 values)"
    QString className(int k) const; // Fashion-MNIST's name for images, else "class k"
    QString datasetError() const { return datasetError_; }
    int currentStep() const { return step_; }
    void setPlaybackIntervalMs(int ms);

public slots:
    void run();    // simulate (if needed) and play
    void pause();
    void step();   // one step forward (simulates first if needed)
    void reset();  // back to no trace
    void setImageIndex(int index);
    void setCurrentStep(int step);
    void loadDataset();
    // The package of the latest mapping (null: none; the chip engine is then disabled).
    void setPackage(std::shared_ptr<const ChipPackage> package);

signals:
    void runFinished(bool ok);
    void datasetReady(bool ok);
    // Firing rate per document op of the last run, and the engine that measured it.
    void firingRatesChanged(const std::map<int, double>& rateByOp, const QString& engine);
    // core/sim's measured ledger of the last chip run (null after Reset or another engine's run).
    void measuredEnergyChanged(std::shared_ptr<const EnergyChartData> energy);
    // core/sim's per-core energy and spikes of the last chip run (floorplan
    // colours; null after Reset or another engine's run).
    void measuredCoresChanged(std::shared_ptr<const FloorMeasurement> cores);
    // The chip-simulator run's bottlenecks and what was run (null: cleared).
    void bottlenecksChanged(std::shared_ptr<const std::vector<::stc::sim::Bottleneck>> list, const QString& source);

private:
    void simulate(bool thenPlay);
    void accept(sim::SimTrace t, ModulePtr module, int index, bool thenPlay, Engine engine);
    bool traceIsCurrent() const;
    void updateEngineBox();
    void updateAvailability(); // content or "open a model" page; loads the dataset once available
    void showImage();
    void showTrace();
    void showPrediction();
    void showNeuronTrace(int layer, int64_t neuron);
    void updateControls();
    void advance();

    Document* doc_;
    JobRunner* jobs_;
    std::shared_ptr<const data::ImageSet> images_;
    QString datasetError_;
    bool datasetLoading_ = false;
    bool runAfterLoad_ = false;
    sim::TracePtr trace_;
    ModulePtr traceModule_;
    int traceImage_ = -1;
    Engine traceEngine_ = Engine::Reference;
    std::shared_ptr<const ChipPackage> package_, tracePackage_;
    bool engineChosen_ = false;
    QString ledgerText_;
    int step_ = -1;
    bool playing_ = false;

    QLabel* image_;
    QLabel* imageCaption_;
    QSpinBox* index_;
    QToolButton* runButton_;
    QToolButton* pauseButton_;
    QToolButton* stepButton_;
    QToolButton* resetButton_;
    QSlider* scrubber_;
    QLabel* stepLabel_;
    QComboBox* engineBox_;
    QLabel* engineLabel_;
    QLabel* status_;
    sim::SpikeRaster* raster_;
    sim::ProbabilityBars* prediction_;
    QChartView* neuronTrace_;
    QTimer* playback_;
    QWidget* notYet_;
    QWidget* content_;
};

} // namespace stc::views
