"""Reproduce the paper's Tables 1 and 2: list, print, run locally or submit to Slurm a grid's cells, and gather tables
(the program is dvae_sharp/reproduce.py; docs/REPRODUCING.md).

    python reproduce.py --set=table1 --budget=cpu-small --seeds=1,2,3 --list
    python reproduce.py --results
"""
if __name__ == "__main__":  # from the first line on, a stop signal ends the program with one line and 128 + N
    from dvae_sharp.dvae.runner import interrupts
    interrupts.stop_at_once(interrupts.REPRODUCE_STOP)
    from dvae_sharp.reproduce import console_main
    console_main()
